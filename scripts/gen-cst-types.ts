// Regenerates what is derived from the %arcuate grammar: the CST types (grammar/cst.d.ts, so the
// CST→AST code is typed by the grammar itself and never drifts) and the syntax diagram
// (docs/diagrams/grammar.html). Run: npx tsx scripts/gen-cst-types.ts
// test/lang/generated.test.ts fails when either committed file is out of date.
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cstTypesSource, syntaxDiagramHtml } from "../grammar/generated.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
writeFileSync(join(root, "grammar", "cst.d.ts"), cstTypesSource());
writeFileSync(join(root, "docs", "diagrams", "grammar.html"), syntaxDiagramHtml());
process.stdout.write("wrote grammar/cst.d.ts and docs/diagrams/grammar.html\n");
