// Reader conformance: every golden table (../shared/fixtures/delta-golden) at every version, read
// by arcuate and by delta-rs in the same test. Each must be read identically (schema and rows), or
// refused by both, or refused by arcuate with an error naming an unsupported feature.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DeltaTable } from "../../src/delta/index.js";
import { GOLDEN_TABLES } from "../support/paths.js";
import { changesWithArcuate, difference, readWithArcuate, readWithDeltaRs } from "./support/compare.js";

/** How delta-rs says it lacks a reader feature (then there is no oracle for that version). */
const UNSUPPORTED_BY_DELTA_RS =
  /not yet supported by the deltalake reader|Unsupported table features required/;

const tables = readdirSync(GOLDEN_TABLES)
  .filter((name) => statSync(join(GOLDEN_TABLES, name)).isDirectory())
  .sort();

/** Tables with the change data feed on at their first version: their whole feed is compared too. */
async function cdfRanges(path: string): Promise<Array<[number, number | null]>> {
  try {
    const snapshot = await (await DeltaTable.open(path)).snapshot({ version: 0 });
    return snapshot.metadata.configuration?.["delta.enableChangeDataFeed"] === "true" ? [[0, null]] : [];
  } catch {
    return [];
  }
}

async function versionsOf(path: string): Promise<Array<number | null>> {
  try {
    const latest = await (await DeltaTable.open(path)).latestVersion();
    return Array.from({ length: latest + 1 }, (_, v) => v);
  } catch {
    return [null]; // no log: both readers are asked for the latest version and must refuse
  }
}

describe("golden tables: arcuate reads what delta-rs reads", () => {
  it("conforms on every table and version", { timeout: 300_000 }, async () => {
    const entries = await Promise.all(
      tables.map(async (name) => ({
        name,
        path: join(GOLDEN_TABLES, name),
        versions: await versionsOf(join(GOLDEN_TABLES, name)),
        cdf: await cdfRanges(join(GOLDEN_TABLES, name)),
      })),
    );
    const deltaRs = await readWithDeltaRs(entries);

    const report: Array<{ table: string; versions: string; result: string }> = [];
    const failures: string[] = [];
    for (const { name, path, versions, cdf } of entries) {
      const results = new Map<string, number>();
      for (const version of versions) {
        const ours = await readWithArcuate(path, version);
        const theirs = deltaRs[name]![String(version)]!;
        let result: string;
        if ("error" in theirs && "error" in ours) result = "refused by both";
        else if ("error" in ours) {
          if (ours.code === "UNSUPPORTED_FEATURE") result = `refused: ${ours.error}`;
          else {
            result = "MISMATCH";
            failures.push(`${name}@${version}: arcuate refused (${ours.error}), delta-rs read it`);
          }
        } else if ("error" in theirs && UNSUPPORTED_BY_DELTA_RS.test(theirs.error)) {
          // delta-rs lacks a reader feature arcuate has (type widening, …): no oracle for this
          // version; the other versions of the table and the writer tests cover the code paths.
          const features = /features: \{([^}]*)\}|required: \[([^\]]*)\]/.exec(theirs.error);
          result = `arcuate only (delta-rs lacks ${(features?.[1] ?? features?.[2] ?? "?").replaceAll("'", "")})`;
        } else if (!("error" in theirs) && JSON.stringify(ours.schema).includes('"variant"')) {
          // delta-rs hands variants out as their raw struct of binaries, arcuate as JSON text:
          // no oracle here (test/delta/variant.test.ts pins the decoding).
          result = "arcuate only (delta-rs gives variants as raw binaries)";
        } else {
          const diff = difference(ours, theirs);
          if (diff === undefined) result = "equal";
          else {
            result = "MISMATCH";
            failures.push(`${name}@${version}: ${diff}`);
          }
        }
        results.set(result, (results.get(result) ?? 0) + 1);
      }
      for (const [start, end] of cdf) {
        const theirs = deltaRs[name]![`cdf:${start}:${end}`]!;
        const diff = difference(await changesWithArcuate(path, start, end), theirs);
        results.set(diff ? "CDF MISMATCH" : "change data feed equal", 1);
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
    console.log(`${"table".padEnd(width)}  versions  result\n${lines.join("\n")}`);
    expect(failures).toEqual([]);
  });
});
