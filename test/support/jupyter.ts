// Jupyter as the tests' peer: install the arcuate kernelspec into a temporary prefix (through the
// real `arcuate kernel install`), execute notebooks headless with nbclient, and talk to a running
// kernel with jupyter_client, all in the project's .venv via runPython.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { PROJECT_ROOT } from "./paths.js";
import { runPythonJson } from "./python.js";

const execFileAsync = promisify(execFile);

export const LAUNCHER = join(PROJECT_ROOT, "dist", "src", "kernel", "main.js");

/** A notebook output, as nbformat stores it. */
export interface Output {
  output_type: "stream" | "display_data" | "execute_result" | "error" | "update_display_data";
  name?: string;
  text?: string;
  data?: Record<string, string>;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

export interface ExecutedCell {
  source: string;
  execution_count: number | null;
  outputs: Output[];
}

export interface ExecutedNotebook {
  cells: ExecutedCell[];
  /** Set when nbclient stopped at a failing cell (allowErrors false); cellIndex counts code cells. */
  error: { cellIndex: number; ename: string; evalue: string; message: string } | null;
}

/** A Jupyter data folder holding the installed `arcuate` kernelspec; pass `env` to Python. */
export interface KernelInstall {
  prefix: string;
  env: Record<string, string>;
  kernelJson: string;
  dispose(): Promise<void>;
}

/**
 * Compiles the package once per test run (the kernelspec runs dist/src/kernel/main.js), unless
 * `ARCUATE_TEST_NO_BUILD=1`. Test files run in parallel workers: the first takes a lock and
 * builds, the others wait for it, so no kernel ever starts from half-written files. tsc emits
 * even when a file elsewhere in the tree does not type-check yet, so only a missing launcher fails.
 */
export async function buildPackage(): Promise<void> {
  if (process.env["ARCUATE_TEST_NO_BUILD"] !== "1") {
    const run = testRunId();
    const done = join(tmpdir(), `arcuate-test-build-${run}.done`);
    const lock = join(tmpdir(), `arcuate-test-build-${run}.lock`);
    if (!existsSync(done)) {
      if (await tryLock(lock)) {
        try {
          await execFileAsync(process.execPath, [TSC, "-p", "tsconfig.build.json"], {
            cwd: PROJECT_ROOT,
          }).catch(() => undefined);
          await writeFile(done, "");
        } finally {
          await rm(lock, { recursive: true, force: true });
        }
      } else {
        for (const deadline = Date.now() + 180_000; !existsSync(done); ) {
          if (Date.now() > deadline)
            throw new Error("timed out waiting for another test worker to build the package");
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    }
  }
  if (!existsSync(LAUNCHER))
    throw new Error(`the kernel launcher ${LAUNCHER} was not built (npx tsc -p tsconfig.build.json)`);
}

const TSC = join(PROJECT_ROOT, "node_modules", "typescript", "bin", "tsc");

/** Workers of one vitest run share its process as parent: its pid and start time name the run. */
function testRunId(): string {
  try {
    const stat = readFileSync(`/proc/${process.ppid}/stat`, "utf8");
    const startTime = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    return `${process.ppid}-${startTime}`;
  } catch {
    return String(process.ppid);
  }
}

async function tryLock(path: string): Promise<boolean> {
  try {
    await mkdir(path);
    return true;
  } catch {
    return false;
  }
}

/** Builds, then installs the kernelspec with `arcuate kernel install --prefix <temp>`. */
export async function installKernel(): Promise<KernelInstall> {
  await buildPackage();
  const prefix = await mkdtemp(join(tmpdir(), "arcuate-jupyter-"));
  await execFileAsync(
    process.execPath,
    [join(PROJECT_ROOT, "dist", "src", "cli.js"), "kernel", "install", "--prefix", prefix],
    {
      cwd: PROJECT_ROOT,
    },
  );
  const data = join(prefix, "share", "jupyter");
  return {
    prefix,
    env: { JUPYTER_PATH: data },
    kernelJson: join(data, "kernels", "arcuate", "kernel.json"),
    dispose: () => rm(prefix, { recursive: true, force: true }),
  };
}

export interface RunOptions {
  /** The notebook's folder: the kernel's working directory (default: the notebook file's folder). */
  cwd?: string;
  /** Keep executing after a failing cell (nbclient's allow_errors). */
  allowErrors?: boolean;
  /** Where to write the executed notebook (.ipynb), if anywhere. */
  saveTo?: string;
  /** Extra environment for the kernel (it inherits the Python process's). */
  env?: Record<string, string>;
  /** Per-cell timeout in seconds (default 120). */
  cellTimeout?: number;
}

const RUN_NOTEBOOK_PY = `
import json, os, sys
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
args = json.loads(sys.argv[1])
if args["path"]:
    nb = nbformat.read(args["path"], as_version=4)
else:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in args["cells"]]
client = NotebookClient(nb, kernel_name="arcuate", timeout=args["timeout"], allow_errors=args["allowErrors"],
                        resources={"metadata": {"path": args["cwd"]}})
error = None
try:
    client.execute()
except CellExecutionError as e:
    code = [c for c in nb.cells if c.cell_type == "code"]
    index = next((i for i, c in enumerate(code) if any(o.get("output_type") == "error" for o in c.get("outputs", []))), -1)
    error = {"cellIndex": index, "ename": e.ename, "evalue": e.evalue, "message": str(e)}
if args["saveTo"]:
    nbformat.write(nb, args["saveTo"])
cells = [{"source": c.source, "execution_count": c.get("execution_count"), "outputs": c.get("outputs", [])}
         for c in nb.cells if c.cell_type == "code"]
print(json.dumps({"cells": cells, "error": error}))
`;

/** Executes a notebook file on the `arcuate` kernel; returns its code cells with their outputs. */
export function runNotebook(
  install: KernelInstall,
  path: string,
  options: RunOptions = {},
): Promise<ExecutedNotebook> {
  return execute(install, { path, cells: null }, options.cwd ?? join(path, ".."), options);
}

/** Executes code cells, as a new notebook in `cwd`, on the `arcuate` kernel. */
export function runCells(
  install: KernelInstall,
  cells: string[],
  cwd: string,
  options: RunOptions = {},
): Promise<ExecutedNotebook> {
  return execute(install, { path: null, cells }, cwd, options);
}

function execute(
  install: KernelInstall,
  source: { path: string | null; cells: string[] | null },
  cwd: string,
  options: RunOptions,
): Promise<ExecutedNotebook> {
  const timeout = options.cellTimeout ?? 120;
  const args = {
    ...source,
    cwd,
    timeout,
    allowErrors: options.allowErrors ?? false,
    saveTo: options.saveTo ?? null,
  };
  return runPythonJson<ExecutedNotebook>(RUN_NOTEBOOK_PY, {
    args: [JSON.stringify(args)],
    env: { ...install.env, ...options.env },
    timeoutMs: 60_000 + timeout * 1000 * Math.max(1, source.cells?.length ?? 20),
  });
}

const KERNEL_REQUESTS_PY = `
import json, sys
from jupyter_client.manager import start_new_kernel
args = json.loads(sys.argv[1])
km, kc = start_new_kernel(kernel_name="arcuate", cwd=args["cwd"], startup_timeout=60)
try:
    for code in args["setup"]:
        reply = kc.execute_interactive(code, timeout=60, output_hook=lambda msg: None)
        if reply["content"]["status"] != "ok":
            raise SystemExit("setup cell failed: " + code)
    answers = []
    for request in args["requests"]:
        if request["type"] == "complete":
            reply = kc.complete(request["code"], request["cursor"], reply=True, timeout=30)
        else:
            reply = kc.inspect(request["code"], request["cursor"], reply=True, timeout=30)
        answers.append(reply["content"])
    print(json.dumps(answers))
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
`;

export interface KernelRequest {
  type: "complete" | "inspect";
  code: string;
  cursor: number;
}

/** Starts one kernel, runs `setup` cells, then sends completion/inspection requests; returns the replies' contents. */
export function kernelRequests<T = Record<string, unknown>>(
  install: KernelInstall,
  cwd: string,
  setup: string[],
  requests: KernelRequest[],
  env: Record<string, string> = {},
): Promise<T[]> {
  return runPythonJson<T[]>(KERNEL_REQUESTS_PY, {
    args: [JSON.stringify({ cwd, setup, requests })],
    env: { ...install.env, ...env },
    timeoutMs: 180_000,
  });
}

/** All text a cell showed: streams, text/plain of displays and results, and error tracebacks. */
export function cellText(cell: ExecutedCell): string {
  return cell.outputs
    .map((o) => {
      if (o.output_type === "stream") return o.text ?? "";
      if (o.output_type === "error") return (o.traceback ?? []).join("\n");
      return o.data?.["text/plain"] ?? "";
    })
    .join("\n");
}

/** The text/html outputs of a cell. */
export function cellHtml(cell: ExecutedCell): string[] {
  return cell.outputs.flatMap((o) => (o.data?.["text/html"] === undefined ? [] : [o.data["text/html"]]));
}

export function cellErrors(cell: ExecutedCell): Output[] {
  return cell.outputs.filter((o) => o.output_type === "error");
}

/** The rows of the HTML tables in `html`, as arrays of cell texts (header rows included). */
export function htmlTableRows(html: string): string[][] {
  const textOf = (s: string) =>
    s
      .replace(/<[^>]+>/g, "")
      .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, "&");
  return [...html.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...(row[1] ?? "").matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((cell) =>
      textOf(cell[1] ?? "").trim(),
    ),
  );
}
