// The files derived from the grammar are committed; they must match the grammar as it is now.
// On a failure, run: npx tsx scripts/gen-cst-types.ts
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { cstTypesSource, syntaxDiagramHtml } from "../../scripts/gen-cst-types.js";
import { PROJECT_ROOT } from "../support/paths.js";

it("grammar/cst.d.ts is generated from the current grammar", () => {
  expect(readFileSync(join(PROJECT_ROOT, "grammar", "cst.d.ts"), "utf8")).toBe(cstTypesSource());
});

it("docs/diagrams/grammar.html shows the current grammar", () => {
  const html = readFileSync(join(PROJECT_ROOT, "docs", "diagrams", "grammar.html"), "utf8");
  expect(html).toBe(syntaxDiagramHtml());
  expect(html).toContain("createShare");
});
