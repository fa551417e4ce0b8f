// Reader conformance: every golden table (../shared/fixtures/delta-golden) at every version, read
// by arcuate and by delta-rs in the same test. Each must be read identically (schema and rows), or
// refused by both, or refused by arcuate with an error naming an unsupported feature.
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DeltaTable } from "../../src/delta/index.js";
import { batchRows } from "../../src/delta/json.js";
import { isArcuateError, messageOf } from "../../src/errors.js";
import { GOLDEN_TABLES } from "../support/paths.js";
import { runPython } from "../support/python.js";
import { canonical, digestRows } from "./support/canonical.js";

type Outcome =
  | { schema: unknown; count: number; digest: string; rows: string[] }
  | { error: string; code?: string };
type TheirOutcome = { schema: unknown; count: number; digest: string; rows?: string[] } | { error: string };

function stripMetadata(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripMetadata);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([k]) => k !== "metadata")
        .map(([k, v]) => [k, stripMetadata(v)]),
    );
  }
  return value;
}

async function readWithArcuate(path: string, version: number | null): Promise<Outcome> {
  try {
    const table = await DeltaTable.open(path);
    const snapshot = await table.snapshot(version === null ? {} : { version });
    const rows: string[] = [];
    for await (const batch of snapshot.scanBatches()) {
      for (const row of batchRows(batch, snapshot.schema)) rows.push(canonical(row));
    }
    return {
      schema: stripMetadata(snapshot.schema),
      ...digestRows(rows),
      rows: rows.length <= 2000 ? rows.sort() : [],
    };
  } catch (error) {
    return { error: messageOf(error), ...(isArcuateError(error) ? { code: error.code } : {}) };
  }
}

/** How delta-rs says it lacks a reader feature (then there is no oracle for that version). */
const UNSUPPORTED_BY_DELTA_RS =
  /not yet supported by the deltalake reader|Unsupported table features required/;

const tables = readdirSync(GOLDEN_TABLES)
  .filter((name) => statSync(join(GOLDEN_TABLES, name)).isDirectory())
  .sort();

async function versionsOf(path: string): Promise<Array<number | null>> {
  try {
    const latest = await (await DeltaTable.open(path)).latestVersion();
    return Array.from({ length: latest + 1 }, (_, v) => v);
  } catch {
    return [null];
  }
}

describe("golden tables: arcuate reads what delta-rs reads", () => {
  it("conforms on every table and version", { timeout: 300_000 }, async () => {
    const entries = await Promise.all(
      tables.map(async (name) => ({
        name,
        path: join(GOLDEN_TABLES, name),
        versions: await versionsOf(join(GOLDEN_TABLES, name)),
      })),
    );
    const dir = mkdtempSync(join(tmpdir(), "arcuate-golden-"));
    writeFileSync(join(dir, "tables.json"), JSON.stringify(entries));
    const script = readFileSync(new URL("./support/deltars_read.py", import.meta.url), "utf8");
    await runPython(script, { args: [join(dir, "tables.json"), join(dir, "out.json")], timeoutMs: 600_000 });
    const deltaRs = JSON.parse(readFileSync(join(dir, "out.json"), "utf8")) as Record<
      string,
      Record<string, TheirOutcome>
    >;

    const report: Array<{ table: string; versions: string; result: string }> = [];
    const failures: string[] = [];
    for (const { name, path, versions } of entries) {
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
          // delta-rs lacks a reader feature arcuate has (v2 checkpoints, type widening, …): no
          // oracle for this version; other versions and the writer tests cover the code paths.
          const features = /features: \{([^}]*)\}|required: \[([^\]]*)\]/.exec(theirs.error);
          result = `arcuate only (delta-rs lacks ${(features?.[1] ?? features?.[2] ?? "?").replaceAll("'", "")})`;
        } else if ("error" in theirs) {
          result = "MISMATCH";
          failures.push(`${name}@${version}: delta-rs refused (${theirs.error}), arcuate read it`);
        } else {
          const sameSchema = canonical(ours.schema) === canonical(theirs.schema);
          const theirRows = theirs.rows ?? [];
          const sameRows = theirs.count === ours.count && theirs.digest === ours.digest;
          if (sameSchema && sameRows) result = "equal";
          else {
            result = "MISMATCH";
            const firstDiff = theirRows.findIndex((r, i) => r !== ours.rows[i]);
            failures.push(
              `${name}@${version}: ${sameSchema ? "" : `schema differs: ours ${canonical(ours.schema)} theirs ${canonical(theirs.schema)}; `}` +
                `${sameRows ? "" : `rows differ (${ours.count} vs ${theirs.count} rows); first: ours ${ours.rows[firstDiff]?.slice(0, 300)} theirs ${theirRows[firstDiff]?.slice(0, 300)}`}`,
            );
          }
        }
        results.set(result, (results.get(result) ?? 0) + 1);
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
