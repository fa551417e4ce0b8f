// Regenerates what is derived from the %arcuate grammar: the CST types (grammar/cst.d.ts, so the
// CST→AST code is typed by the grammar itself and never drifts) and the syntax diagram
// (docs/diagrams/grammar.html). Run: npx tsx scripts/gen-cst-types.ts
// test/lang/generated.test.ts fails when either committed file is out of date.
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { generateCstDts } from "@chevrotain/cst-dts-gen";
import { createSyntaxDiagramsCode } from "chevrotain";
import { arcuateParser } from "../grammar/parser.js";

const HEADER =
  "// Generated from grammar/parser.ts by scripts/gen-cst-types.ts; do not edit.\n" +
  "// The Concrete Syntax Tree node types of the %arcuate grammar.\n";

/** grammar/cst.d.ts, formatted as biome formats it. */
export function cstTypesSource(): string {
  const body = generateCstDts(arcuateParser.getGAstProductions(), { includeVisitorInterface: false });
  // The generator's output differs from biome's format in two small ways; mend them here so the
  // committed file is both biome-clean and byte-equal to what this function returns.
  const tidy = body
    .replace(/\r\n/g, "\n")
    .replace(/\((\w+)\)\[\]/g, "$1[]")
    .replace("import type { CstNode, ICstVisitor, IToken }", "import type { CstNode, IToken }");
  return HEADER + tidy.trimEnd() + "\n";
}

/** docs/diagrams/grammar.html: Chevrotain's railroad diagrams of every rule. */
export function syntaxDiagramHtml(): string {
  return createSyntaxDiagramsCode(arcuateParser.getSerializedGastProductions());
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  writeFileSync(join(root, "grammar", "cst.d.ts"), cstTypesSource());
  writeFileSync(join(root, "docs", "diagrams", "grammar.html"), syntaxDiagramHtml());
  process.stdout.write("wrote grammar/cst.d.ts and docs/diagrams/grammar.html\n");
}
