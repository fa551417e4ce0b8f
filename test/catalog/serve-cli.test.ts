// `arcuate serve` on a PostgreSQL catalog it cannot use, run as an operator runs it (the CLI as a
// child process): a wrong password, a database that does not answer, a database migrated by a
// newer arcuate. Each time the command exits by itself, with status 1, having served nothing, and
// says what is wrong and what to do, without printing the password.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/peers/mlflow-server.js";
import { type PostgresServer, startPostgres } from "../../src/peers/postgres.js";
import { Catalog } from "../../src/sharing/index.js";
import { type ChildExit, runToExit } from "../support/child.js";
import { PROJECT_ROOT } from "../support/paths.js";

const CLI = join(PROJECT_ROOT, "src", "cli.ts");
/**
 * Far beyond what a refusal needs (the CLI's start alone took 20 s on a 2-core machine shared by
 * many jobs); a server that keeps running never ends.
 */
const DEADLINE_MS = 180_000;

let pg: PostgresServer;
let workDir: string;

async function serve(catalog: string | undefined, env: Record<string, string> = {}): Promise<ChildExit> {
  const port = await freePort();
  const args = ["serve", "--workdir", workDir, "--port", String(port)];
  if (catalog) args.push("--catalog", catalog);
  return runToExit(process.execPath, ["--import", "tsx", CLI, ...args], {
    cwd: PROJECT_ROOT,
    env,
    deadlineMs: DEADLINE_MS,
  });
}

beforeAll(async () => {
  pg = await startPostgres({ auth: "password", password: "serve-secret" });
  workDir = mkdtempSync(join(tmpdir(), "arcuate-serve-cli-"));
  await pg.createDatabase("catalog");
  await pg.createDatabase("future");
  const future = await Catalog.open(pg.url("future"), { workDir });
  await future.close();
  pg.psql("INSERT INTO arcuate_schema_migrations (version, name) VALUES (99, 'future')", "future");
}, 120_000);

afterAll(async () => {
  await pg?.destroy();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe("arcuate serve on a catalog it cannot use", () => {
  it("exits by itself with a message naming the problem and what to do", async () => {
    const closedPort = await freePort();
    const [wrongPassword, unreachable, newer] = await Promise.all([
      serve(pg.url("catalog").replace("serve-secret", "not-the-password")),
      // The location from the environment, as `arcuate run` and the kernel take it too.
      serve(undefined, { ARCUATE_CATALOG: pg.url("catalog").replace(`:${pg.port}/`, `:${closedPort}/`) }),
      serve(pg.url("future")),
    ]);
    for (const exit of [wrongPassword, unreachable, newer]) {
      expect(exit.hung).toBe(false);
      expect(exit.code).toBe(1);
      expect(exit.stdout).not.toContain("serving Delta Sharing");
      expect(exit.stderr).not.toMatch(/serve-secret|not-the-password/);
      expect(exit.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    }
    expect(wrongPassword.stderr).toMatch(
      /^arcuate: catalog: PostgreSQL at postgres:\/\/arcuate@127\.0\.0\.1:\d+\/catalog refused user 'arcuate' .*correct the user and password in --catalog/,
    );
    expect(unreachable.stderr).toMatch(
      new RegExp(
        `^arcuate: catalog: cannot reach the PostgreSQL catalog at postgres://arcuate@127\\.0\\.0\\.1:${closedPort}/catalog .*start the database, or correct the host and port`,
      ),
    );
    expect(newer.stderr).toMatch(
      /^arcuate: catalog: the database at postgres:\/\/arcuate@127\.0\.0\.1:\d+\/future has catalog schema version 99, newer than this arcuate knows \(\d+\): upgrade arcuate/,
    );
    // The newer database was left as it was.
    expect(pg.psql("SELECT max(version) FROM arcuate_schema_migrations", "future")).toBe("99");
  }, 240_000);
});
