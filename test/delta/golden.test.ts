// Reader conformance: every golden table (../shared/fixtures/delta-golden) and every table Spark
// writes in the test (support/spark_tables.py: variant, type widening), at every version, read by
// arcuate and by Apache Spark 4.2 with delta-spark 4.4 (the engine that writes these tables; its
// answers are cached by content, see support/spark.ts), with delta-rs as a second opinion.
// Every version Spark reads must be read identically by arcuate (schema and rows), or refused
// with an error naming a feature Spark's reader lacks too; a version Spark refuses, arcuate must
// refuse too, or read it exactly as delta-rs does.
import { describe, expect, it } from "vitest";
import { DeltaTable } from "../../src/delta/index.js";
import { GOLDEN_TABLES } from "../support/paths.js";
import {
  changesWithArcuate,
  difference,
  type Outcome,
  readWithArcuate,
  readWithDeltaRs,
  type TheirOutcome,
} from "./support/compare.js";
import { goldenEntries, versionsOf } from "./support/golden-entries.js";
import { readWithSpark } from "./support/spark.js";

/** Tables with the change data feed on at their first version: their whole feed is compared too. */
async function cdfRanges(path: string): Promise<Array<[number, number | null]>> {
  try {
    const snapshot = await (await DeltaTable.open(path)).snapshot({ version: 0 });
    return snapshot.metadata.configuration?.["delta.enableChangeDataFeed"] === "true" ? [[0, null]] : [];
  } catch {
    return [];
  }
}

/** How delta-rs says it lacks a reader feature. */
const UNSUPPORTED_BY_DELTA_RS =
  /not yet supported by the deltalake reader|Unsupported table features required/;

/** Errors of spark_render.py turning Spark's rows into Python values, not Spark refusals. */
const PYTHON_RENDERING = /^(ValueError|OverflowError|TypeError|KeyError|AttributeError): /;

function short(error: string): string {
  return error.replace(/\s+/g, " ").slice(0, 120);
}

/** The verdict for one table-version, and a failure description when it does not conform. */
function verdict(
  ours: Outcome,
  spark: TheirOutcome,
  deltaRs: TheirOutcome | undefined,
): { result: string; failure?: string } {
  if (!("error" in spark)) {
    if ("error" in ours) {
      return { result: "MISMATCH", failure: `arcuate refused (${ours.error}), Spark read it` };
    }
    const diff = difference(ours, spark);
    if (diff !== undefined) return { result: "MISMATCH", failure: `differs from Spark: ${diff}` };
    if (deltaRs === undefined) return { result: "equal to Spark" };
    if ("error" in deltaRs) {
      return {
        result: UNSUPPORTED_BY_DELTA_RS.test(deltaRs.error)
          ? "equal to Spark (delta-rs lacks a feature)"
          : "equal to Spark (delta-rs refuses)",
      };
    }
    return {
      result:
        difference(ours, deltaRs) === undefined
          ? "equal to Spark and delta-rs"
          : "equal to Spark (delta-rs differs)",
    };
  }
  if (PYTHON_RENDERING.test(spark.error)) {
    // Spark read it, but its rows do not fit Python's types (years beyond 1..9999): delta-rs decides.
    if (deltaRs && !("error" in deltaRs) && !("error" in ours) && difference(ours, deltaRs) === undefined) {
      return { result: `equal to delta-rs (Spark's rows not renderable: ${short(spark.error)})` };
    }
    return { result: "MISMATCH", failure: `no oracle: Spark's rows not renderable (${spark.error})` };
  }
  if ("error" in ours) return { result: "refused by Spark and arcuate" };
  // Spark refuses what arcuate reads: only acceptable where delta-rs reads it the same.
  if (deltaRs && !("error" in deltaRs) && difference(ours, deltaRs) === undefined) {
    return { result: `equal to delta-rs (Spark refuses: ${short(spark.error)})` };
  }
  return { result: "MISMATCH", failure: `arcuate read it, Spark refused (${spark.error})` };
}

describe("golden tables: arcuate reads what Spark reads", () => {
  // Without cached answers the Spark run comes first (up to 75 minutes, beside delta-rs's run:
  // support/spark.ts, docs/delta.md), then arcuate's reads.
  it("conforms on every table and version", { timeout: 5_100_000 }, async () => {
    const golden = await goldenEntries();
    const entries = await Promise.all(golden.map(async (e) => ({ ...e, cdf: await cdfRanges(e.path) })));
    const [spark, deltaRs] = await Promise.all([
      readWithSpark(GOLDEN_TABLES, golden),
      readWithDeltaRs(entries),
    ]);
    const written = await Promise.all(
      Object.entries(spark.written).map(async ([name, path]) => ({
        name,
        path,
        versions: await versionsOf(path),
        cdf: [] as Array<[number, number | null]>,
      })),
    );
    expect(written.map((w) => w.name).sort()).toEqual([
      "spark-type-widening-written",
      "spark-variant-written",
    ]);

    const report: Array<{ table: string; versions: string; result: string }> = [];
    const failures: string[] = [];
    for (const { name, path, versions, cdf } of [...entries, ...written]) {
      const results = new Map<string, number>();
      for (const version of versions) {
        const ours = await readWithArcuate(path, version);
        const theirs = spark.tables[name]?.[String(version)];
        if (theirs === undefined) throw new Error(`Spark has no answer for ${name}@${version}`);
        const { result, failure } = verdict(ours, theirs, deltaRs[name]?.[String(version)]);
        if (failure) failures.push(`${name}@${version}: ${failure}`);
        results.set(result, (results.get(result) ?? 0) + 1);
      }
      for (const [start, end] of cdf) {
        const theirs = deltaRs[name]![`cdf:${start}:${end}`]!;
        const diff = difference(await changesWithArcuate(path, start, end), theirs);
        results.set(diff ? "CDF MISMATCH" : "change data feed equal to delta-rs", 1);
        if (diff) failures.push(`${name} changes ${start}..${end ?? "latest"}: ${diff}`);
      }
      report.push({
        table: name,
        versions: versions[0] === null ? "latest" : `0..${versions.length - 1}`,
        result: [...results.entries()].map(([r, n]) => (results.size > 1 ? `${r} ×${n}` : r)).join("; "),
      });
    }
    const width = Math.max(...report.map((r) => r.table.length));
    const lines = report.map((r) => `${r.table.padEnd(width)}  ${r.versions.padEnd(8)}  ${r.result}`);
    console.log(
      `Spark oracle: ${spark.cached ? "cached answers" : `ran in ${spark.seconds} s`}\n` +
        `${"table".padEnd(width)}  versions  result\n${lines.join("\n")}`,
    );
    expect(failures).toEqual([]);
  });
});
