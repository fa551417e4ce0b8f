// `arcuate kernel install`: writes a Jupyter kernelspec named `arcuate` that starts this package's
// launcher by absolute paths (node and dist/src/kernel/main.js), so a notebook in any folder
// gets this kernel. Jupyter's own `jupyter_client` installs it, so the kernelspec lands exactly
// where that Python's Jupyter looks (`--user`, `--sys-prefix`, `--prefix P`).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ArcuateError } from "../errors.js";
import { launcherPath, packageRoot } from "./paths.js";

export const KERNEL_NAME = "arcuate";

export interface InstallOptions {
  /** Install into the per-user kernels folder (the default when no place is given). */
  user?: boolean;
  /** Install into the Python's sys.prefix (its virtual environment). */
  sysPrefix?: boolean;
  /** Install into `<prefix>/share/jupyter/kernels/arcuate`. */
  prefix?: string;
  /** A Python with jupyter_client (default: the project's .venv, else python3). */
  python?: string;
}

/** The kernel.json written for this installation. */
export function kernelSpec(launcher = launcherPath(), node = process.execPath): Record<string, unknown> {
  return {
    argv: [node, launcher, "{connection_file}"],
    display_name: "arcuate (TypeScript)",
    language: "typescript",
    interrupt_mode: "signal",
    metadata: { arcuate: { launcher } },
  };
}

export function defaultPython(): string {
  const venv = join(packageRoot(), ".venv", "bin", "python");
  return existsSync(venv) ? venv : "python3";
}

// Reads its arguments as JSON from argv so no path is ever spliced into Python source.
const INSTALL_PY = `
import json, sys
from jupyter_client.kernelspec import KernelSpecManager
args = json.loads(sys.argv[1])
prefix = sys.prefix if args["sysPrefix"] else args["prefix"]
path = KernelSpecManager().install_kernel_spec(args["source"], kernel_name=args["name"], user=args["user"], prefix=prefix, replace=True)
print(path)
`;

/** Installs the kernelspec and returns the folder it was installed to. */
export async function installKernelspec(options: InstallOptions = {}): Promise<string> {
  const places = [options.user, options.sysPrefix, options.prefix !== undefined].filter(Boolean).length;
  if (places > 1) {
    throw new ArcuateError(
      "INVALID_PARAMETER_VALUE",
      "kernel: give only one of --user, --sys-prefix, --prefix",
    );
  }
  const launcher = launcherPath();
  if (!existsSync(launcher)) {
    throw new ArcuateError(
      "RESOURCE_DOES_NOT_EXIST",
      `kernel: the launcher ${launcher} is not built; run 'npm run build'`,
    );
  }
  const source = await mkdtemp(join(tmpdir(), "arcuate-kernelspec-"));
  try {
    await writeFile(join(source, "kernel.json"), `${JSON.stringify(kernelSpec(launcher), null, 2)}\n`);
    const args = {
      source,
      name: KERNEL_NAME,
      user: places === 0 || options.user === true,
      sysPrefix: options.sysPrefix === true,
      prefix: options.prefix ?? null,
    };
    const python = options.python ?? defaultPython();
    return (await run(python, ["-c", INSTALL_PY, JSON.stringify(args)])).trim();
  } finally {
    await rm(source, { recursive: true, force: true });
  }
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString("utf8");
    });
    child.on("error", (error) =>
      reject(
        new ArcuateError("RESOURCE_DOES_NOT_EXIST", `kernel: cannot run ${command}: ${error.message}`, {
          cause: error,
        }),
      ),
    );
    child.on("close", (code) => {
      if (code === 0) resolve(out);
      else {
        const hint = err.includes("No module named 'jupyter_client'")
          ? " (that Python has no jupyter_client; pass --python)"
          : "";
        reject(
          new ArcuateError(
            "INTERNAL_ERROR",
            `kernel: installing the kernelspec with ${command} failed${hint}:\n${err.trim()}`,
          ),
        );
      }
    });
  });
}
