// Runs Python code with the peers' interpreter (MLflow, deltalake, delta-sharing, pandas), the way
// tests compare arcuate with the real thing. Scripts print JSON on stdout; stderr is kept for the
// error message when they fail.
import { spawn } from "node:child_process";
import { PYTHON, requireVenv } from "./paths.js";

export interface PythonOptions {
  env?: Record<string, string>;
  args?: string[];
  timeoutMs?: number;
  /** Another interpreter than the project's .venv (e.g. .venv-mlflow2's, for MLflow 2.x). */
  python?: string;
}

// Every script runs under this launcher. The peers' native libraries (deltalake, the connector's
// kernel, pyarrow) now and then abort in the C++ static destructors of interpreter teardown, after
// the script's answer is out ("terminate called without an active exception", SIGABRT): seen in
// full runs of the hardening and the 2026-protocol tests. So the launcher does what a normal exit
// does that a script can notice (joins non-daemon threads, runs atexit hooks such as MLflow's
// trace export flush, drops the script's globals so open files are closed and flushed, flushes
// stdout and stderr) and then leaves with os._exit, skipping only the native teardown. A failing
// script still prints its traceback and exits non-zero.
const LAUNCHER = `
import atexit, os, sys, threading, traceback
kind, target = sys.argv[1], sys.argv[2]
sys.argv = [target if kind == "file" else "-c", *sys.argv[3:]]
scope = {"__name__": "__main__", "__builtins__": __builtins__}
status = 0
try:
    if kind == "file":
        import runpy
        sys.path[0] = os.path.dirname(os.path.abspath(target))
        scope = runpy.run_path(target, run_name="__main__")
    else:
        exec(compile(target, "<script>", "exec"), scope)
except SystemExit as stop:
    if stop.code is None:
        status = 0
    elif isinstance(stop.code, int):
        status = stop.code
    else:
        print(stop.code, file=sys.stderr)
        status = 1
except BaseException:
    traceback.print_exc()
    status = 1
threading._shutdown()
atexit._run_exitfuncs()
scope.clear()
sys.stdout.flush()
sys.stderr.flush()
os._exit(status)
`;

/** Runs `code` and returns its stdout. Fails with the script's stderr when it exits non-zero. */
export function runPython(code: string, options: PythonOptions = {}): Promise<string> {
  return runInterpreter(["-c", LAUNCHER, "code", code, ...(options.args ?? [])], options);
}

/** Runs a Python file (sys.argv[1:] are `options.args`) and returns its stdout. */
export function runPythonScript(file: string, options: PythonOptions = {}): Promise<string> {
  return runInterpreter(["-c", LAUNCHER, "file", file, ...(options.args ?? [])], options);
}

/** Runs a Python file that prints one JSON document as its last line, and parses it. */
export async function runPythonScriptJson<T>(file: string, options: PythonOptions = {}): Promise<T> {
  return lastJsonLine<T>(await runPythonScript(file, options));
}

function runInterpreter(argv: string[], options: PythonOptions): Promise<string> {
  requireVenv();
  return new Promise((resolve, reject) => {
    const child = spawn(options.python ?? PYTHON, argv, {
      env: { ...process.env, PYTHONUNBUFFERED: "1", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString("utf8");
      if (code === 0) resolve(stdout);
      else
        reject(new Error(`python exited with ${code}:\n${Buffer.concat(err).toString("utf8").slice(-4000)}`));
    });
  });
}

/** Runs `code`, which must print one JSON document as its last line of output, and parses it. */
export async function runPythonJson<T>(code: string, options: PythonOptions = {}): Promise<T> {
  return lastJsonLine<T>(await runPython(code, options));
}

function lastJsonLine<T>(stdout: string): T {
  const trimmed = stdout.trim();
  return JSON.parse(trimmed.slice(trimmed.lastIndexOf("\n") + 1)) as T;
}
