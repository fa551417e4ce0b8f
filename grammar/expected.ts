// What may come next after a prefix of a statement, in words a user knows. Both syntax errors
// ("expected EXPERIMENT or MODEL after WITH") and completion are built on this, from Chevrotain's
// content assist over the grammar, so neither keeps its own copy of the grammar.
import type { IToken, TokenType } from "chevrotain";
import { arcuateParser } from "./parser.js";
import { Keyword, NumberLiteral, Parameter, StringLiteral } from "./tokens.js";

/** The kinds of names completion can offer from what exists. */
export type NameRole =
  | "share"
  | "recipient"
  | "experiment"
  | "model"
  | "schema"
  | "table"
  | "column"
  | "metric"
  | "axis";

export type Expectation =
  | { kind: "keyword"; word: string; label: string }
  | { kind: "name"; role: NameRole; label: string }
  | { kind: "value"; label: string };

// The rules that say what a name or value means where it stands (see grammar/parser.ts).
const NAME_RULES: Record<string, { role: NameRole; label: string }> = {
  shareName: { role: "share", label: "a share name" },
  recipientName: { role: "recipient", label: "a recipient name" },
  experimentName: { role: "experiment", label: "an experiment name" },
  modelName: { role: "model", label: "a model name" },
  exportName: { role: "schema", label: "a schema name" },
  tableName: { role: "table", label: "a table name" },
  columnName: { role: "column", label: "a column name" },
  metricName: { role: "metric", label: "a metric name" },
  axisName: { role: "axis", label: "step or time" },
};
const VALUE_RULES: Record<string, string> = {
  stringValue: "a quoted string",
  integerValue: "a whole number",
  literal: "a value",
  compareOperator: "a comparison (=, !=, <, <=, >, >=)",
};
// Optional keyword phrases read better whole ("IF NOT EXISTS" rather than "IF").
const PHRASES: Record<string, string> = {
  "createShare:IF": "IF NOT EXISTS",
  "createRecipient:IF": "IF NOT EXISTS",
  "dropStatement:IF": "IF EXISTS",
  "createImport:OR": "OR REPLACE",
  "createImport:VERSION": "VERSION AS OF",
  "createImport:AS": "AS OF",
  "selectStatement:VERSION": "VERSION AS OF",
  "selectStatement:AS": "AS OF",
  "predicateTail:IS": "IS [NOT] NULL",
};

/**
 * What may follow `prefix` (the tokens of one statement so far). Empty when the prefix itself
 * is not a valid start of a statement.
 */
export function expectedAfter(prefix: IToken[]): Expectation[] {
  // Content assist ignores gates: a bare word after SHOW is a statement only when it is MODELS.
  const afterShow =
    prefix.length >= 2 && prefix[0]!.tokenType.name === "SHOW" && prefix[1]!.tokenType.name === "Identifier";
  if (afterShow && prefix[1]!.image.toUpperCase() !== "MODELS") return [];
  const paths = arcuateParser.computeContentAssist("statement", prefix);
  const out: Expectation[] = [];
  const seen = new Set<string>();
  for (const path of paths) {
    const expectation = describe(
      path.nextTokenType,
      path.ruleStack,
      prefix[prefix.length - 1]?.tokenType.name,
    );
    if (!seen.has(expectation.label)) {
      seen.add(expectation.label);
      out.push(expectation);
    }
  }
  return out;
}

// What a quoted string means, by the keyword before it.
const STRING_AFTER: Record<string, string> = {
  MLFLOW: "a quoted MLflow URL ('http://host:port')",
  PROFILE: "a quoted profile file path",
  COMMENT: "a quoted comment",
  SHARE: "a quoted coordinate ('profile#share.schema')",
  FROM: "a quoted coordinate ('profile#share.schema.table')",
  IN: "a quoted profile path or coordinate",
  LIKE: "a quoted pattern ('%x_')",
};

function describe(type: TokenType, ruleStack: string[], previous: string | undefined): Expectation {
  for (let i = ruleStack.length - 1; i >= 0; i--) {
    const rule = ruleStack[i] as string;
    const name = NAME_RULES[rule];
    if (name) return { kind: "name", ...name };
    const stringMeaning = rule === "stringValue" && previous ? STRING_AFTER[previous] : undefined;
    if (stringMeaning) return { kind: "value", label: stringMeaning };
    const value = VALUE_RULES[rule];
    if (value) return { kind: "value", label: value };
  }
  const rule = ruleStack[ruleStack.length - 1] ?? "";
  if (isKeywordType(type)) {
    const word = type.name;
    return { kind: "keyword", word, label: PHRASES[`${rule}:${word}`] ?? word };
  }
  // SHOW MODELS: a bare word the grammar matches by its text (not reserved), offered as a keyword.
  if (rule === "showStatement" && type.name === "Identifier")
    return { kind: "keyword", word: "MODELS", label: "MODELS" };
  if (type === StringLiteral) return { kind: "value", label: "a quoted string" };
  if (type === NumberLiteral) return { kind: "value", label: "a number" };
  if (type === Parameter) return { kind: "value", label: "a :parameter" };
  // In HELP any word may follow; say so once rather than listing every keyword.
  if (rule === "helpStatement") return { kind: "value", label: "a topic" };
  return { kind: "value", label: type.LABEL ?? type.name };
}

export function isKeywordType(type: TokenType): boolean {
  return type !== Keyword && (type.CATEGORIES ?? []).includes(Keyword);
}

/** Whether `tokens` make a complete statement (so `;` or the end of input may follow). */
export function isCompleteStatement(tokens: IToken[]): boolean {
  if (tokens.length === 0) return false;
  arcuateParser.input = tokens;
  arcuateParser.statement();
  return arcuateParser.errors.length === 0;
}

/** "A, B or C", with long lists shortened. */
export function listInWords(labels: string[], limit = 12): string {
  const shown = labels.length > limit ? [...labels.slice(0, limit - 1), "…"] : labels;
  if (shown.length <= 1) return shown.join("");
  return `${shown.slice(0, -1).join(", ")} or ${shown[shown.length - 1]}`;
}
