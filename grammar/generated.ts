// The sources of the files derived from the grammar, as strings: scripts/gen-cst-types.ts writes
// them, a test compares them with the committed files. Not imported at run time.
import { generateCstDts } from "@chevrotain/cst-dts-gen";
import { createSyntaxDiagramsCode } from "chevrotain";
import { arcuateParser } from "./parser.js";

const HEADER =
  "// Generated from grammar/parser.ts by scripts/gen-cst-types.ts; do not edit.\n" +
  "// The Concrete Syntax Tree node types of the %arcuate grammar.\n";

/** grammar/cst.d.ts, formatted as biome formats it (two-space indent, double quotes). */
export function cstTypesSource(): string {
  const body = generateCstDts(arcuateParser.getGAstProductions(), { includeVisitorInterface: false });
  // The generator's output differs from biome's format in two small ways; mend them here so
  // the committed file is both biome-clean and byte-equal to what this function returns.
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
