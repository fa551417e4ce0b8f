// A provider's deployment for tests and the benchmark: a PostgreSQL catalog, `arcuate serve`
// processes on it (real CLI processes, as an operator starts them), and nginx in front of them.
// Files are served through nginx too (`--public-url`), so signed URLs minted by one server are
// fetched from whichever server nginx picks.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { freePort } from "../../src/peers/mlflow-server.js";
import { type Nginx, startNginx } from "../../src/peers/nginx.js";
import { type PostgresOptions, type PostgresServer, startPostgres } from "../../src/peers/postgres.js";
import { Catalog } from "../../src/sharing/index.js";
import { PROJECT_ROOT } from "../support/paths.js";

export interface ServeProcess {
  child: ChildProcess;
  port: number;
  /** `http://127.0.0.1:<port>/delta-sharing`: this server itself, not through nginx. */
  direct: string;
  /** What it printed on stderr (errors it logged). */
  stderr: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface Cluster {
  pg: PostgresServer;
  /** The catalog's location, postgres://… */
  location: string;
  workDir: string;
  /** An administrator's handle on the catalog (as `arcuate share|recipient|grant` would use). */
  catalog: Catalog;
  servers: ServeProcess[];
  nginx?: Nginx;
  /** The endpoint through nginx (or of the only server when there is no nginx). */
  endpoint: string;
  close(): Promise<void>;
}

const CLI = join(PROJECT_ROOT, "src", "cli.ts");

/** Runs `arcuate <args>` to completion; resolves with stdout, rejects with stderr. */
export function arcuate(args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`arcuate ${args[0]} exited with ${code}: ${err.trim()}`)),
    );
  });
}

/** Starts `arcuate serve` on the catalog; resolves once it prints where it serves. */
export async function serve(location: string, workDir: string, publicUrl?: string): Promise<ServeProcess> {
  const port = await freePort();
  const args = ["serve", "--catalog", location, "--workdir", workDir, "--port", String(port)];
  if (publicUrl) args.push("--public-url", publicUrl);
  const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], {
    cwd: PROJECT_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`arcuate serve exited with ${code}: ${stderr.trim()}`));
    child.once("exit", onExit);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line.includes("serving Delta Sharing at")) {
        child.off("exit", onExit);
        resolve();
      }
    });
  });
  return {
    child,
    port,
    direct: `http://127.0.0.1:${port}/delta-sharing`,
    stderr: () => stderr,
    kill: async (signal = "SIGTERM") => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill(signal);
      await exited;
    },
  };
}

/** PostgreSQL, `servers` arcuate servers on it and, with two or more, nginx in front. */
export async function startCluster(options: {
  servers: number;
  nginx?: boolean;
  postgres?: PostgresOptions;
}): Promise<Cluster> {
  const pg = await startPostgres(options.postgres);
  const cleanup: Array<() => Promise<void>> = [() => pg.destroy()];
  const workDir = mkdtempSync(join(tmpdir(), "arcuate-cluster-"));
  cleanup.push(async () => rmSync(workDir, { recursive: true, force: true }));
  try {
    await pg.createDatabase("catalog");
    const location = pg.url("catalog");
    const catalog = await Catalog.open(location, { workDir });
    cleanup.push(() => catalog.close());
    const withNginx = options.nginx ?? options.servers > 1;
    const nginxPort = withNginx ? await freePort() : undefined;
    const publicUrl = nginxPort ? `http://127.0.0.1:${nginxPort}` : undefined;
    const servers = await Promise.all(
      Array.from({ length: options.servers }, () => serve(location, workDir, publicUrl)),
    );
    for (const s of servers) cleanup.push(() => s.kill());
    const nginx = nginxPort
      ? await startNginx({ upstreams: servers.map((s) => `127.0.0.1:${s.port}`), port: nginxPort })
      : undefined;
    if (nginx) cleanup.push(() => nginx.stop());
    const endpoint = nginx ? `${nginx.origin}/delta-sharing` : servers[0]!.direct;
    await catalog.setEndpoint(endpoint);
    return {
      pg,
      location,
      workDir,
      catalog,
      servers,
      ...(nginx ? { nginx } : {}),
      endpoint,
      close: async () => {
        for (const step of cleanup.reverse()) await step().catch(() => undefined);
      },
    };
  } catch (error) {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    throw error;
  }
}
