// Executes a notebook headless on this installation's arcuate kernel, with Jupyter's own nbconvert
// (the executed notebook, and optionally its HTML rendering, are written next to each other).
// The kernelspec is installed into a private temporary prefix for the run, so the kernel that
// runs is this checkout's, whatever else is installed. Used by `arcuate kernel run` and the demo.
import { spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { ArcuateError } from "../errors.js";
import { defaultPython, installKernelspec } from "./kernelspec.js";

export interface RunNotebookOptions {
  /** The notebook to execute (left untouched). */
  notebook: string;
  /** Where the executed copy (same file name) and its HTML go; the kernel runs in this folder. */
  outputDir: string;
  /** Also render the executed notebook to HTML. */
  html?: boolean;
  /** Run every cell even after one fails (the failed cells keep their error output). */
  allowErrors?: boolean;
  /** Seconds a cell may run (default 600). */
  cellTimeout?: number;
  /** Environment for the kernel (ARCUATE_WORKDIR, MLFLOW_TRACKING_URI, …), added to this process's. */
  env?: Record<string, string>;
  /** A Python with nbconvert and jupyter_client (default: the project's .venv, else python3). */
  python?: string;
}

export interface ExecutedNotebook {
  notebook: string;
  html?: string;
}

export async function runNotebook(options: RunNotebookOptions): Promise<ExecutedNotebook> {
  const python = options.python ?? defaultPython();
  const outputDir = resolve(options.outputDir);
  await mkdir(outputDir, { recursive: true });
  const executed = join(outputDir, basename(options.notebook));
  if (resolve(options.notebook) !== executed) await copyFile(options.notebook, executed);

  const prefix = await mkdtemp(join(tmpdir(), "arcuate-kernel-run-"));
  try {
    await installKernelspec({ prefix, python });
    const env = { ...process.env, ...options.env, JUPYTER_PATH: join(prefix, "share", "jupyter") };
    const execute = [
      "-m",
      "nbconvert",
      "--to",
      "notebook",
      "--execute",
      "--inplace",
      `--ExecutePreprocessor.timeout=${options.cellTimeout ?? 600}`,
      ...(options.allowErrors ? ["--allow-errors"] : []),
      executed,
    ];
    await nbconvert(python, execute, env, options.notebook);
    const result: ExecutedNotebook = { notebook: executed };
    if (options.html) {
      await nbconvert(python, ["-m", "nbconvert", "--to", "html", executed], env, options.notebook);
      result.html = executed.replace(/\.ipynb$/, "") + ".html";
    }
    return result;
  } finally {
    await rm(prefix, { recursive: true, force: true });
  }
}

function nbconvert(python: string, args: string[], env: NodeJS.ProcessEnv, notebook: string): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(python, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString("utf8");
    });
    child.on("error", (error) =>
      fail(
        new ArcuateError("RESOURCE_DOES_NOT_EXIST", `kernel: cannot run ${python}: ${error.message}`, {
          cause: error,
        }),
      ),
    );
    child.on("close", (code) => {
      if (code === 0) done();
      else {
        // nbconvert ends with the failing cell and its error; that is what a user needs to see.
        const tail = err.trim().split("\n").slice(-40).join("\n");
        fail(new ArcuateError("INTERNAL_ERROR", `kernel: running ${notebook} failed:\n${tail}`));
      }
    });
  });
}
