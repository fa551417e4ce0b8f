// Every `arcuate` command that touches a share exits by itself when it is done, on success and on
// failure, run as a user runs it: the built CLI (bin/arcuate.js) as a child process, with a
// deadline. They once printed their result and then idled forever (an idle decode worker's port
// kept the process alive), and so did a library user's script awaiting `client.queryTable(…)`.
// One sharing server serves every golden table; children run a few at a time.
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Table, Utf8, vectorFromArray } from "apache-arrow";
import pLimit from "p-limit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeltaTable } from "../../src/delta/index.js";
import { MlflowClient } from "../../src/mlflow/index.js";
import { freePort } from "../../src/peers/mlflow-server.js";
import { seedExperiment } from "../../src/peers/seed.js";
import { type ChildExit, runToExit } from "../support/child.js";
import { buildPackage } from "../support/jupyter.js";
import { mlflowServers } from "../support/mlflow.js";
import { GOLDEN_TABLES, PROJECT_ROOT } from "../support/paths.js";
import { startTestSharingServer, type TestSharingServer } from "../support/sharing-server.js";

const BIN = join(PROJECT_ROOT, "bin", "arcuate.js");
/** Far beyond what any of these commands needs on a loaded machine; a hang never ends. */
const DEADLINE_MS = 60_000;
const PARALLEL = 3;

interface Exit extends ChildExit {
  args: string[];
}

/** Runs `node <file> …args` and waits for it to exit by itself, killing it at the deadline. */
async function runChild(file: string, args: string[]): Promise<Exit> {
  return {
    args,
    ...(await runToExit(process.execPath, [file, ...args], { cwd: work, deadlineMs: DEADLINE_MS })),
  };
}

const arcuate = (...args: string[]) => runChild(BIN, args);

/** Runs every command, PARALLEL at a time; after the first hang the rest are not started. */
async function runAll(commands: string[][]): Promise<Exit[]> {
  const limit = pLimit(PARALLEL);
  let hung = false;
  const exits = await Promise.all(
    commands.map((args) =>
      limit(async () => {
        if (hung) return undefined;
        const exit = await arcuate(...args);
        hung ||= exit.hung;
        return exit;
      }),
    ),
  );
  return exits.filter((exit): exit is Exit => exit !== undefined);
}

/** What a user would notice about an exit: whether it came, its code, and a one-line error. */
function outcome(exit: Exit): string {
  if (exit.hung) return `still running after ${DEADLINE_MS / 1000} s`;
  if (exit.code === 0) return "exit 0";
  return `exit ${exit.code}: ${exit.stderr.trim().split("\n")[0]}`;
}

let work: string;
let golden: TestSharingServer;
let profile: string;
let served: string[];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "arcuate-exits-"));
  await buildPackage();
  golden = await startTestSharingServer();
  await golden.catalog.createShare("golden");
  served = [];
  for (const name of readdirSync(GOLDEN_TABLES).sort()) {
    if (!existsSync(join(GOLDEN_TABLES, name, "_delta_log"))) continue;
    await golden.catalog.addTable("golden", "g", name, join(GOLDEN_TABLES, name));
    served.push(name);
  }
  profile = (await golden.shareTables({ share: "golden", tables: [] })).profilePath;
}, 600_000);

afterAll(async () => {
  await golden?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("arcuate sharing", () => {
  it("cat exits on every golden table the server serves, printing rows or one error line", async () => {
    expect(served.length).toBeGreaterThan(70);
    // At most 1,000 rows each: one golden table has a million, and printing them is not the point.
    const exits = await runAll(
      served.map((name) => ["sharing", "cat", "--limit", "1000", `${profile}#golden.g.${name}`]),
    );
    expect(exits.filter((exit) => exit.hung).map((exit) => exit.args[4])).toEqual([]);
    expect(exits).toHaveLength(served.length);
    for (const exit of exits) {
      if (exit.code === 0) {
        for (const line of exit.stdout.split("\n").filter((l) => l.length > 0)) JSON.parse(line);
      } else {
        expect(exit.code, exit.args[4]).toBe(1);
        expect(exit.stderr, exit.args[4]).toMatch(/^arcuate: (sharing|delta): [^\n]+\n$/);
      }
    }
    // Most golden tables read; the rest are the suite's deliberately broken or unsupported ones.
    expect(exits.filter((exit) => exit.code === 0).length).toBeGreaterThan(50);
  }, 1_800_000);

  it("ls, cat with a limit or of a table without data files, and their failures exit", async () => {
    const at = (where: string) => `${profile}#${where}`;
    const down = join(work, "down.share");
    writeFileSync(
      down,
      JSON.stringify({
        shareCredentialsVersion: 1,
        endpoint: `http://127.0.0.1:${await freePort()}/delta-sharing`,
        bearerToken: "t",
      }),
    );
    const wrongToken = join(work, "wrong-token.share");
    writeFileSync(
      wrongToken,
      JSON.stringify({ shareCredentialsVersion: 1, endpoint: golden.url, bearerToken: "not-the-token" }),
    );
    const cases: Array<[string[], string]> = [
      [["sharing", "ls", profile], "exit 0"],
      [["sharing", "ls", at("golden")], "exit 0"],
      [["sharing", "ls", "--json", at("golden.g")], "exit 0"],
      [["sharing", "ls", "--all", at("golden")], "exit 0"],
      // The snapshots of these hold no data files: nothing to print, and the command ends.
      [["sharing", "cat", at("golden.g.collations-preview-table")], "exit 0"],
      [["sharing", "cat", "--limit", "3", at("golden.g.collations-preview-table")], "exit 0"],
      [["sharing", "cat", "--limit", "3", at("golden.g.deltalog-getChanges")], "exit 0"],
      [["sharing", "cat", "--limit", "3", at("golden.g.snapshot-data0")], "exit 0"],
      [["sharing", "cat", "--version", "0", at("golden.g.snapshot-data1")], "exit 0"],
      [["sharing", "cat", "--changes", "--from", "0", at("golden.g.basic-with-inserts-updates")], "exit 1"],
      [["sharing", "cat", at("golden.g.no-such-table")], "exit 1"],
      [["sharing", "ls", wrongToken], "exit 1"],
      [["sharing", "ls", down], "exit 1"],
      [["sharing", "ls", join(work, "missing.share")], "exit 1"],
    ];
    const exits = await runAll(cases.map(([args]) => args));
    expect(exits.map((exit) => [exit.args, outcome(exit).slice(0, 6)])).toEqual(
      cases.map(([args, expected]) => [args, expected]),
    );
    const byArgs = (i: number) => exits[i]!;
    expect(byArgs(0).stdout).toBe("golden\n");
    expect(byArgs(4).stdout).toBe("");
    expect(byArgs(5).stdout).toBe("");
    expect(byArgs(6).stdout).toBe("");
    expect(byArgs(7).stdout.trim().split("\n")).toHaveLength(3);
    expect(byArgs(11).stderr).toMatch(/^arcuate: sharing: .*HTTP 401/);
    expect(byArgs(12).stderr).toMatch(/^arcuate: sharing: .*ECONNREFUSED/);
  }, 600_000);

  it("SELECT and SHOW against a share in `arcuate run` exit", async () => {
    const exits = await runAll([
      ["run", `SELECT * FROM '${profile}#golden.g.snapshot-data0' LIMIT 2`],
      ["run", `SELECT * FROM '${profile}#golden.g.collations-preview-table'`],
      ["run", `SHOW SHARES IN '${profile}'`],
      ["run", `SHOW TABLES IN '${profile}#golden'`],
      ["run", `SELECT * FROM '${profile}#golden.g.no-such-table'`],
    ]);
    expect(exits.map(outcome).map((o) => o.slice(0, 6))).toEqual([
      "exit 0",
      "exit 0",
      "exit 0",
      "exit 0",
      "exit 1",
    ]);
    expect(exits[0]!.stdout).toContain("data-0-1");
    expect(exits[4]!.stderr).toMatch(/^arcuate: .*no-such-table/);
  }, 600_000);
});

describe("a library user's script", () => {
  it("ends when its last promise settles, after workers decoded the files", async () => {
    // Files worth decoding in workers: 3 files of ~2 MiB of incompressible text.
    const location = join(work, "big");
    const rows = (n: number) =>
      new Table({
        text: vectorFromArray(
          Array.from({ length: n }, () => randomBytes(512).toString("hex")),
          new Utf8(),
        ),
      });
    const table = await DeltaTable.create(location, { schema: rows(1).schema });
    for (let i = 0; i < 3; i++) await table.write(rows(2048), { mode: "append" });
    const { profilePath } = await golden.shareTables({
      share: "big",
      tables: [{ schema: "s", table: "t", location }],
    });
    const script = join(work, "script.mjs");
    writeFileSync(
      script,
      [
        `import { SharingClient } from ${JSON.stringify(join(PROJECT_ROOT, "dist", "src", "index.js"))};`,
        `import { decodePool } from ${JSON.stringify(join(PROJECT_ROOT, "dist", "src", "sharing", "client", "decode-pool.js"))};`,
        `const client = await SharingClient.fromProfile(process.argv[2]);`,
        `const table = await client.queryTable({ share: "big", schema: "s", name: "t" });`,
        `const batches = [];`,
        `for await (const b of client.queryTableBatches({ share: "big", schema: "s", name: "t" })) batches.push(b);`,
        `console.log(JSON.stringify({ rows: table.numRows, streamed: batches.length > 0, workers: decodePool(undefined)?.started ?? 0 }));`,
      ].join("\n"),
    );
    const exit = await runChild(script, [profilePath]);
    expect(outcome(exit)).toBe("exit 0");
    const printed = JSON.parse(exit.stdout) as { rows: number; streamed: boolean; workers: number };
    expect(printed.rows).toBe(3 * 2048);
    expect(printed.streamed).toBe(true);
    expect(printed.workers).toBeGreaterThan(0);
  }, 600_000);
});

describe("arcuate run with experiments and models over a share", () => {
  it("exports, imports, and fails an import against a down MLflow, each exiting", async () => {
    const { provider, recipient } = mlflowServers();
    const id = randomUUID().slice(0, 8);
    const providerDir = join(work, "provider");
    const sharing = await startTestSharingServer({ dir: providerDir });
    try {
      await seedExperiment(new MlflowClient({ trackingUri: provider }), {
        experimentName: `exits-${id}`,
        runs: 2,
        metricsPerRun: 1,
        stepsPerMetric: 5,
        binaryArtifactBytes: 1024,
        modelName: `exits-model-${id}`,
        modelVersions: 1,
      });
      const exported = await arcuate(
        "run",
        "--workdir",
        providerDir,
        "--mlflow",
        provider,
        `CREATE SHARE s WITH EXPERIMENT 'exits-${id}' AS e; ALTER SHARE s ADD MODEL 'exits-model-${id}' AS m; CREATE RECIPIENT r; GRANT SELECT ON SHARE s TO RECIPIENT r`,
      );
      expect(outcome(exported)).toBe("exit 0");
      const shared = join(providerDir, "profiles", "r.share");
      const downMlflow = `http://127.0.0.1:${await freePort()}`;
      const exits = await runAll([
        ["run", "--mlflow", recipient, `CREATE EXPERIMENT 'exits-in-${id}' USING SHARE '${shared}#s.e'`],
        ["run", "--mlflow", recipient, `CREATE MODEL 'exits-in-model-${id}' USING SHARE '${shared}#s.m'`],
        ["run", `SELECT * FROM '${shared}#s.e.runs' LIMIT 1`],
        ["run", "--mlflow", downMlflow, `CREATE EXPERIMENT 'exits-down-${id}' USING SHARE '${shared}#s.e'`],
      ]);
      expect(exits.map(outcome).map((o) => o.slice(0, 6))).toEqual(["exit 0", "exit 0", "exit 0", "exit 1"]);
      expect(exits[3]!.stderr).toMatch(/^arcuate: .*(ECONNREFUSED|refused|reach)/i);
    } finally {
      await sharing.close();
    }
  }, 900_000);
});
