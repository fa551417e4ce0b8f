// Starts and stops a throw-away PostgreSQL cluster: `initdb` into a temp folder, `postgres` on a
// free loopback port (its socket in the same folder), trust or password authentication. Used by
// the tests and benchmarks of the PostgreSQL catalog, and by anything else that needs a real
// database. PostgreSQL refuses to run as root, so when we are root the cluster runs as the
// `postgres` user (Debian's package creates it). The binaries come from PATH or Debian's
// /usr/lib/postgresql/<version>/bin (scripts/setup/postgres.mjs installs them when missing).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  chmodSync,
  chownSync,
  createWriteStream,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ArcuateError } from "../errors.js";
import { freePort } from "./mlflow-server.js";

export interface PostgresOptions {
  /** "trust" (default): any user, no password. "password": scram-sha-256 with `password`. */
  auth?: "trust" | "password";
  /** The superuser's name. Default "arcuate". */
  user?: string;
  /** The superuser's password (auth "password"). Default "arcuate". */
  password?: string;
  port?: number;
  startTimeoutMs?: number;
  /** Server settings (`-c name=value`), e.g. { shared_preload_libraries: "pg_stat_statements" }. */
  settings?: Record<string, string>;
}

export interface PostgresServer {
  readonly port: number;
  readonly user: string;
  readonly dir: string;
  readonly logFile: string;
  /** `postgres://user[:password]@127.0.0.1:port/<database>`. */
  url(database?: string): string;
  /** Creates a database (owned by the superuser). */
  createDatabase(name: string): Promise<void>;
  /** Runs SQL with psql as the superuser; returns its unaligned, tuples-only output. */
  psql(sql: string, database?: string, password?: string): string;
  /** Stops the server (fast shutdown: sessions are disconnected), keeping its data. */
  stop(): Promise<void>;
  /** Starts it again on the same port after `stop()`. */
  start(): Promise<void>;
  /**
   * Freezes the server and every backend (SIGSTOP): connections stay open and silent, as when a
   * database host hangs or its network drops packets. `resume()` lets them go on.
   */
  pause(): void;
  resume(): void;
  /** Stops it and deletes the cluster. */
  destroy(): Promise<void>;
}

/** The folder holding initdb/postgres/createdb: PATH first, then Debian's versioned folders. */
export function postgresBinDir(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    // PATH may hold only links to some of the programs (initdb, postgres): use their real folder.
    if (dir && existsSync(join(dir, "initdb"))) return dirname(realpathSync(join(dir, "initdb")));
  }
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], "bin") : undefined;
}

export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin) {
    throw new ArcuateError(
      "UNSUPPORTED_FEATURE",
      "peers: PostgreSQL is not installed (no initdb); run `node scripts/setup.mjs` or apt-get install postgresql",
    );
  }
  const user = options.user ?? "arcuate";
  const password = options.password ?? "arcuate";
  const auth = options.auth ?? "trust";
  const dir = mkdtempSync(join(tmpdir(), "arcuate-pg-"));
  const data = join(dir, "data");
  const logFile = join(dir, "postgres.log");
  const owner = runAs();
  if (owner) {
    chownSync(dir, owner.uid, owner.gid);
    chmodSync(dir, 0o700);
  }
  const spawnOptions = owner ? { uid: owner.uid, gid: owner.gid } : {};
  const pwfile = join(dir, "pwfile");
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (owner) chownSync(pwfile, owner.uid, owner.gid);
  const method = auth === "trust" ? "trust" : "scram-sha-256";
  execFileSync(
    join(bin, "initdb"),
    ["-D", data, "-U", user, "--pwfile", pwfile, `--auth=${method}`, "-E", "UTF8", "--no-sync"],
    { stdio: ["ignore", "ignore", "pipe"], ...spawnOptions, env: { ...process.env, LC_ALL: "C" } },
  );
  rmSync(pwfile, { force: true });
  const port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;

  const start = async () => {
    const log = createWriteStream(logFile, { flags: "a" });
    const proc = spawn(
      join(bin, "postgres"),
      [
        ...["-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
        ...Object.entries(options.settings ?? {}).flatMap(([name, value]) => ["-c", `${name}=${value}`]),
      ],
      { stdio: ["ignore", "pipe", "pipe"], ...spawnOptions },
    );
    proc.stdout?.pipe(log);
    proc.stderr?.pipe(log);
    child = proc;
    const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
    while (!(await accepts(port))) {
      if (proc.exitCode !== null || Date.now() > deadline) {
        proc.kill("SIGKILL");
        throw new ArcuateError(
          "CONNECTION_FAILED",
          `peers: PostgreSQL did not start on port ${port}; see ${logFile}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The port accepts before the cluster takes connections; wait until it answers.
    while (!ready(bin, port, user, password, spawnOptions)) {
      if (Date.now() > deadline)
        throw new ArcuateError("CONNECTION_FAILED", `peers: PostgreSQL on ${port} is not ready`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill("SIGINT"); // fast shutdown
    const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };

  const onExit = () => child?.kill("SIGKILL");
  process.once("exit", onExit);
  await start();

  return {
    port,
    user,
    dir,
    logFile,
    url: (database = "postgres") =>
      `postgres://${encodeURIComponent(user)}${auth === "password" ? `:${encodeURIComponent(password)}` : ""}@127.0.0.1:${port}/${database}`,
    createDatabase: async (name) => {
      execFileSync(join(bin, "createdb"), ["-h", "127.0.0.1", "-p", String(port), "-U", user, name], {
        stdio: ["ignore", "ignore", "pipe"],
        env: { ...process.env, PGPASSWORD: password },
      });
    },
    psql: (sql, database = "postgres", pass = password) =>
      execFileSync(
        join(bin, "psql"),
        [
          "-h",
          "127.0.0.1",
          "-p",
          String(port),
          "-U",
          user,
          "-d",
          database,
          "-At",
          "-v",
          "ON_ERROR_STOP=1",
          "-c",
          sql,
        ],
        { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PGPASSWORD: pass } },
      ).trim(),
    stop,
    start,
    pause: () => signalAll(child, "SIGSTOP"),
    resume: () => signalAll(child, "SIGCONT"),
    destroy: async () => {
      if (child) signalAll(child, "SIGCONT");
      await stop();
      process.off("exit", onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Signals the postmaster and its children (backends, background workers). */
function signalAll(postmaster: ChildProcess | undefined, signal: NodeJS.Signals): void {
  const pid = postmaster?.pid;
  if (pid === undefined || postmaster?.exitCode !== null) return;
  const children = readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so split after ')'.
        const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid;
      } catch {
        return false; // it exited meanwhile
      }
    })
    .map(Number);
  if (signal === "SIGSTOP") process.kill(pid, signal);
  for (const child of children) {
    try {
      process.kill(child, signal);
    } catch {
      // it exited meanwhile
    }
  }
  if (signal === "SIGCONT") process.kill(pid, signal);
}

/** The uid/gid to run the cluster as: the `postgres` user when we are root, else ourselves. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    return { uid, gid };
  } catch {
    throw new ArcuateError(
      "UNSUPPORTED_FEATURE",
      "peers: PostgreSQL cannot run as root and there is no 'postgres' user; install Debian's postgresql",
    );
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function ready(
  bin: string,
  port: number,
  user: string,
  password: string,
  spawnOptions: { uid?: number; gid?: number },
): boolean {
  const isready = join(bin, "pg_isready");
  if (!existsSync(isready)) return true;
  try {
    execFileSync(isready, ["-h", "127.0.0.1", "-p", String(port), "-U", user, "-q"], {
      stdio: "ignore",
      ...spawnOptions,
      env: { ...process.env, PGPASSWORD: password },
    });
    return true;
  } catch {
    return false;
  }
}
