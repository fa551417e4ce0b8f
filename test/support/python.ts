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

/** Runs `code` and returns its stdout. Fails with the script's stderr when it exits non-zero. */
export function runPython(code: string, options: PythonOptions = {}): Promise<string> {
  return runInterpreter(["-c", code, ...(options.args ?? [])], options);
}

/** Runs a Python file (sys.argv[1:] are `options.args`) and returns its stdout. */
export function runPythonScript(file: string, options: PythonOptions = {}): Promise<string> {
  return runInterpreter([file, ...(options.args ?? [])], options);
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
