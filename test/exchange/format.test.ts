// The table format is defined once in code; docs/table-format.md must name every column of it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { rewriteMlmodel, SCHEMAS, type TableName } from "../../src/exchange/index.js";
import { PROJECT_ROOT } from "../support/paths.js";

const doc = readFileSync(join(PROJECT_ROOT, "docs", "table-format.md"), "utf8");

describe("the arcuate table format", () => {
  it.each(Object.keys(SCHEMAS) as TableName[])("documents every column of %s", (table) => {
    const section = doc.slice(doc.indexOf(`## \`${table}\``));
    expect(doc).toContain(`## \`${table}\``);
    for (const field of SCHEMAS[table].fields) {
      if (field.name === "export_seq") continue;
      expect(section, `column ${table}.${field.name}`).toContain(`\`${field.name}\``);
    }
  });

  it("rewrites run and model ids in an MLmodel file and keeps the rest byte for byte", () => {
    const mlmodel =
      "artifact_path: model\nmodel_id: m-abc123\nrun_id: 0123abcd\nflavors:\n  python_function:\n    run_id: keep\n";
    const rewritten = rewriteMlmodel(mlmodel, {
      runIds: new Map([["0123abcd", "ffff0000"]]),
      modelIds: new Map([["m-abc123", "m-def456"]]),
    });
    expect(rewritten).toBe(
      "artifact_path: model\nmodel_id: m-def456\nrun_id: ffff0000\nflavors:\n  python_function:\n    run_id: keep\n",
    );
  });
});
