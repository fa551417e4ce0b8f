// The tables Spark writes in the test (variant, type widening; support/spark_tables.py), shared
// by arcuate's server and read by the official Python connector in the delta response format
// (delta-kernel-rust reads the files it is sent) at every version: the rows must be Spark's.
// Spark's answers come from the oracle cache (support/spark.ts; one Spark run per change).
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { GOLDEN_TABLES } from "../support/paths.js";
import { runPythonScript } from "../support/python.js";
import { startTestSharingServer, type TestSharingServer } from "../support/sharing-server.js";
import { goldenEntries } from "./support/golden-entries.js";
import { readWithSpark } from "./support/spark.js";

let server: TestSharingServer;

beforeAll(async () => {
  server = await startTestSharingServer();
});

afterAll(async () => {
  await server?.close();
});

it("serves Spark's variant and type-widening tables to the Python connector (delta format) as Spark reads them", async () => {
  const spark = await readWithSpark(GOLDEN_TABLES, await goldenEntries());
  const names = Object.keys(spark.written).sort();
  expect(names).toEqual(["spark-type-widening-written", "spark-variant-written"]);
  const credentials = await server.shareTables({
    share: "spark",
    tables: names.map((name) => ({ schema: "written", table: name, location: spark.written[name]! })),
  });
  const tables = names.map((name) => {
    const answers = spark.tables[name]!;
    const versions = Object.keys(answers)
      .map(Number)
      .sort((a, b) => a - b);
    const schemas = Object.fromEntries(
      versions.map((v) => {
        const answer = answers[String(v)]!;
        if ("error" in answer) throw new Error(`Spark refused ${name}@${v}: ${answer.error}`);
        return [String(v), answer.schema];
      }),
    );
    return { name: `spark.written.${name}`, table: name, versions, schemas };
  });
  const script = fileURLToPath(new URL("./support/connector_read.py", import.meta.url));
  const stdout = await runPythonScript(script, {
    args: [JSON.stringify({ profile: credentials.profilePath, tables })],
    env: { TZ: "UTC" },
    timeoutMs: 300_000,
  });
  const got = JSON.parse(stdout.trim().split("\n").at(-1)!) as Record<
    string,
    Record<string, { rows?: string[]; error?: string }>
  >;
  const failures: string[] = [];
  let compared = 0;
  for (const { name, table, versions } of tables) {
    for (const v of versions) {
      const theirs = got[name]?.[String(v)];
      const expected = spark.tables[table]![String(v)]!;
      if (!theirs || theirs.error !== undefined || "error" in expected) {
        failures.push(`${table}@${v}: ${theirs?.error ?? "no answer"}`);
        continue;
      }
      compared += 1;
      const first = theirs.rows!.findIndex((row, i) => row !== expected.rows?.[i]);
      if (theirs.rows!.length !== expected.count || first >= 0) {
        failures.push(
          `${table}@${v}: ${theirs.rows!.length} rows vs Spark's ${expected.count}; first difference: connector ${theirs.rows![first]?.slice(0, 300)} Spark ${expected.rows?.[first]?.slice(0, 300)}`,
        );
      }
    }
  }
  expect(failures).toEqual([]);
  expect(compared).toBeGreaterThanOrEqual(10);
}, 1_200_000);
