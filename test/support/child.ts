// Runs a command as a user runs it, as a child process, and waits for it to exit by itself: the
// tests that hold arcuate's commands to "every process ends when it is done" need to tell an exit
// from a hang, so a child still running at the deadline is killed and reported as hung.
import { spawn } from "node:child_process";

export interface ChildExit {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The child was still running at the deadline (and was killed). */
  hung: boolean;
}

export interface ChildOptions {
  cwd: string;
  /** Added to this process's environment. */
  env?: Record<string, string>;
  deadlineMs: number;
}

/** Runs `command …argv` and resolves with how it ended; rejects only when it cannot be started. */
export function runToExit(command: string, argv: string[], options: ChildOptions): Promise<ChildExit> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill("SIGKILL");
    }, options.deadlineMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, hung });
    });
  });
}
