// Starts and stops local `mlflow server` processes on free loopback ports, each with its own
// store (SQLite in its folder unless `backendStoreUri` names another, e.g. PostgreSQL) and
// artifact folder. Used by the demo, the benchmarks and the tests' global setup,
// so all three run MLflow the same way. The interpreter comes from the project's .venv
// (scripts/setup.mjs) unless `mlflowBin` says otherwise.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { ArcuateError } from "../errors.js";

export interface MlflowServerOptions {
  /** Folder for the store, the artifacts and the server's log. Created if missing. */
  dir: string;
  /** Path of the `mlflow` executable. */
  mlflowBin: string;
  port?: number;
  /** Extra arguments, e.g. `["--app-name", "basic-auth"]`. */
  extraArgs?: string[];
  env?: Record<string, string>;
  /**
   * Server worker processes. Default 1: enough for tests and the demo, and light on two cores.
   * "mlflow-default" leaves the flag out, so MLflow starts its own default (4), as teams run it.
   */
  workers?: number | "mlflow-default";
  /** The tracking store, e.g. `postgresql+psycopg2://…`. Default: SQLite in `dir`. */
  backendStoreUri?: string;
  /** How long to wait for GET /health. */
  startTimeoutMs?: number;
}

export interface MlflowServer {
  readonly uri: string;
  readonly port: number;
  readonly dir: string;
  /** The tracking store it was started on (`sqlite:///…`, `postgresql+psycopg2://…`). */
  readonly backendStoreUri: string;
  readonly logFile: string;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1, as the kernel hands one out. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startMlflowServer(options: MlflowServerOptions): Promise<MlflowServer> {
  mkdirSync(options.dir, { recursive: true });
  const port = options.port ?? (await freePort());
  const uri = `http://127.0.0.1:${port}`;
  const logFile = join(options.dir, "mlflow-server.log");
  const backendStoreUri = options.backendStoreUri ?? `sqlite:///${join(options.dir, "mlflow.db")}`;
  const log = createWriteStream(logFile, { flags: "a" });
  const args = [
    "server",
    "--backend-store-uri",
    backendStoreUri,
    "--artifacts-destination",
    join(options.dir, "artifacts"),
    "--serve-artifacts",
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    ...(options.workers === "mlflow-default" ? [] : ["--workers", String(options.workers ?? 1)]),
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(options.mlflowBin, args, {
    cwd: options.dir,
    // MLflow 3's job runner (a dozen huey worker processes per server, for GenAI jobs) is of no
    // use to arcuate and costs several hundred MB and much CPU per server: off unless asked for.
    env: { MLFLOW_SERVER_ENABLE_JOB_EXECUTION: "false", ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so stop() can end uvicorn's workers with it.
    detached: true,
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let exitCode: number | null = null;
  child.on("exit", (code) => {
    exitCode = code ?? -1;
  });

  const deadline = Date.now() + (options.startTimeoutMs ?? 120_000);
  while (Date.now() < deadline) {
    if (exitCode !== null) {
      throw new ArcuateError(
        "CONNECTION_FAILED",
        `mlflow: server on ${uri} exited with ${exitCode}; see ${logFile}`,
      );
    }
    try {
      const response = await fetch(`${uri}/health`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  if (Date.now() >= deadline) {
    killGroup(child, "SIGKILL");
    throw new ArcuateError(
      "CONNECTION_FAILED",
      `mlflow: server on ${uri} did not become healthy; see ${logFile}`,
    );
  }
  return {
    uri,
    port,
    dir: options.dir,
    backendStoreUri,
    logFile,
    pid: child.pid,
    stop: () => stopProcess(child),
  };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  killGroup(child, "SIGTERM");
  const timeout = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 5_000).unref());
  if ((await Promise.race([exited, timeout])) === "timeout") {
    killGroup(child, "SIGKILL");
    await exited;
  }
}
