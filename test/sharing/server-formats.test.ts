// The response format a client asks for is the one it gets. The official Python connector reads
// golden tables with reader features (and plain ones) with `use_delta_format=False` (no
// capabilities header: parquet, no reader features) as well as `True`, and the two agree; a
// table that truly needs column mapping or deletion vectors is refused to the parquet client
// with a 400 naming the feature and `responseformat=delta`. Parquet-only clients once got
// `deltaProtocol` lines and failed on them ("'NoneType' object has no attribute
// 'schema_string'"). One Python process does every check.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DeltaTable } from "../../src/delta/index.js";
import { GOLDEN_TABLES } from "../support/paths.js";
import { runPythonJson } from "../support/python.js";
import { startTestSharingServer, type TestSharingServer } from "../support/sharing-server.js";

const CHECKS = `
import json, sys, math
import delta_sharing
profile, names = sys.argv[1], json.loads(sys.argv[2])

def rows(df):
    df = df[sorted(df.columns)]
    def cell(v):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "None"
        if hasattr(v, "tolist"):
            v = v.tolist()
        # The connector's parquet path keeps a file's integer type where the delta path casts
        # to the table's (wider) schema type: compare numbers by value.
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return repr(float(v))
        return str(v)
    return [list(df.columns), sorted(repr(tuple(cell(v) for v in r)) for r in df.itertuples(index=False))]

out = {}
for name in names:
    url = f"{profile}#golden.g.{name}"
    result = {}
    for fmt in (False, True):
        try:
            result["delta" if fmt else "parquet"] = {"rows": rows(delta_sharing.load_as_pandas(url, use_delta_format=fmt))}
        except Exception as e:
            result["delta" if fmt else "parquet"] = {"error": f"{type(e).__name__}: {e}"[:600]}
    out[name] = result
print(json.dumps(out))
`;

interface Outcome {
  rows?: [string[], string[]];
  error?: string;
}

let server: TestSharingServer;
let profile: string;
/**
 * Golden tables whose protocols list reader features (timestampNtz, column mapping, deletion
 * vectors, v2 checkpoints, vacuum protocol check, type widening, …), and plain ones.
 */
const GOLDEN = [
  "basic-with-vacuum-protocol-check-feature",
  "data-reader-timestamp_ntz",
  "data-reader-timestamp_ntz-name-mode",
  "data-skipping-basic-stats-all-types-columnmapping-id",
  "dv-partitioned-with-checkpoint",
  "dv-with-columnmapping",
  "log-replay-latest-metadata-protocol",
  "parquet-all-types",
  "table-with-columnmapping-mode-name",
  "type-widening-nested",
  "v2-checkpoint-json",
  "data-reader-primitives",
  "snapshot-data3",
];
/** Those arcuate's Delta reader opens, with the reader features reading them needs. */
const tables = new Map<string, string[]>();

beforeAll(async () => {
  server = await startTestSharingServer();
  await server.catalog.createShare("golden");
  for (const name of GOLDEN) {
    const location = join(GOLDEN_TABLES, name);
    if (!existsSync(join(location, "_delta_log"))) continue;
    let needs: string[];
    try {
      const snapshot = await DeltaTable.at(location).snapshot();
      const mode = snapshot.metadata.configuration?.["delta.columnMapping.mode"] ?? "none";
      needs = [
        ...(mode === "none" ? [] : ["columnMapping"]),
        ...(snapshot.files.some((f) => f.deletionVector) ? ["deletionVectors"] : []),
        ...(snapshot.protocol.readerFeatures ?? []).filter((f) => /^(timestampNtz|typeWidening)/.test(f)),
      ];
    } catch {
      continue; // broken or unsupported on purpose: no client reads it in any format
    }
    await server.catalog.addTable("golden", "g", name, location);
    tables.set(name, needs);
  }
  profile = (await server.shareTables({ share: "golden", tables: [] })).profilePath;
}, 300_000);

afterAll(async () => {
  await server?.close();
});

it("answers the Python connector in the format it asks for, the two formats reading alike", async () => {
  expect(tables.size).toBe(GOLDEN.length);
  const outcomes = await runPythonJson<Record<string, { parquet: Outcome; delta: Outcome }>>(CHECKS, {
    args: [profile, JSON.stringify([...tables.keys()])],
    timeoutMs: 1_200_000,
  });
  const problems: string[] = [];
  let bothRead = 0;
  let refused = 0;
  for (const [name, needs] of tables) {
    const { parquet, delta } = outcomes[name]!;
    if (needs.length > 0) {
      refused++;
      // Refused to the parquet client, with the way to ask named; read in the delta format.
      const said = parquet.error ?? "";
      if (
        !(
          said.includes("400") &&
          needs.every((f) => said.includes(f)) &&
          said.includes("responseformat=delta")
        )
      )
        problems.push(
          `${name}: parquet answer was not the 400 naming ${needs.join(", ")}: ${said || "rows"}`,
        );
      // The connector declares deletionvectors, columnmapping and timestampntz only: a table that
      // needs another feature (type widening) is refused to it the same way.
      const declared = ["columnMapping", "deletionVectors", "timestampNtz"];
      const refusedToo = needs.some((f) => !declared.includes(f));
      if (refusedToo && !delta.error?.includes("responseformat=delta"))
        problems.push(`${name}: delta was not refused: ${delta.error?.slice(0, 200) ?? "rows"}`);
      if (!refusedToo && delta.error) problems.push(`${name}: delta failed: ${delta.error.slice(0, 200)}`);
      continue;
    }
    if (parquet.error && delta.error) continue; // the connector cannot read it in any format
    if (parquet.error) problems.push(`${name}: only delta reads; parquet: ${parquet.error.slice(0, 200)}`);
    else if (delta.error) problems.push(`${name}: only parquet reads; delta: ${delta.error.slice(0, 200)}`);
    else if (JSON.stringify(parquet.rows) !== JSON.stringify(delta.rows))
      problems.push(
        `${name}: the formats differ: ${JSON.stringify(parquet.rows).slice(0, 200)} vs ${JSON.stringify(delta.rows).slice(0, 200)}`,
      );
    else bothRead++;
  }
  expect(problems).toEqual([]);
  expect(refused).toBeGreaterThanOrEqual(4);
  expect(bothRead).toBeGreaterThanOrEqual(5);
}, 1_500_000);
