// Completion for the kernel: given a cell and a cursor offset, the keywords that may come next
// (from the grammar, through Chevrotain's content assist) and the names that exist (from a
// NameSource): shares, recipients, experiments and models; the columns of the table a SELECT
// names; the shares, schemas and tables the profile in use can read, as quoted coordinates; and
// `:variables` of the notebook.
import type { IToken } from "chevrotain";
import { unquoteString } from "../../grammar/build-ast.js";
import { type Expectation, expectedAfter, isKeywordType, type NameRole } from "../../grammar/expected.js";
import { tokenizeLeniently } from "../../grammar/parse.js";
import {
  Identifier,
  isKeywordWord,
  Parameter,
  QuotedIdentifier,
  Semicolon,
  StringLiteral,
  UnterminatedQuotedIdentifier,
  UnterminatedString,
} from "../../grammar/tokens.js";

/** The names that exist, by role. Answers should be quick; completion waits at most a moment. */
export interface NameSource {
  names(role: NameRole): Promise<string[]>;
  /** The columns of the shared table `coordinate` names, as written in the statement. */
  columns?(coordinate: string): Promise<string[]>;
  /**
   * What a profile can read, as coordinates without the profile: shares (`depth` 1), schemas
   * (`share.schema`, 2) or tables (`share.schema.table`, 3). `profile` null: the one in use.
   */
  coordinates?(depth: CoordinateDepth, profile: string | null): Promise<string[]>;
  /** The notebook's variables, for `:name`. */
  variables?(): string[];
}

export type CoordinateDepth = 1 | 2 | 3;

export interface Completion {
  matches: string[];
  /** The matches replace text[cursorStart, cursorEnd) (JavaScript string offsets). */
  cursorStart: number;
  cursorEnd: number;
}

// Names are worth waiting for only briefly: a slow server must not freeze the notebook's Tab.
const NAME_TIMEOUT_MS = 1500;

// The word being typed: these tokens, when they end at the cursor, are a prefix to complete.
const PARTIAL_TYPES = new Set([
  Identifier,
  QuotedIdentifier,
  UnterminatedQuotedIdentifier,
  UnterminatedString,
  Parameter,
]);

export async function complete(text: string, cursor: number, source?: NameSource): Promise<Completion> {
  const at = Math.max(0, Math.min(cursor, text.length));
  const tokens = tokenizeLeniently(text.slice(0, at));
  const last = tokens[tokens.length - 1];
  const partial =
    last &&
    (last.endOffset ?? -1) + 1 === at &&
    (PARTIAL_TYPES.has(last.tokenType) || isKeywordType(last.tokenType))
      ? last
      : undefined;
  const before = partial ? tokens.slice(0, -1) : tokens;
  let start = before.length;
  while (start > 0 && (before[start - 1] as IToken).tokenType !== Semicolon) start--;
  const statement = before.slice(start);
  const expected = expectedAfter(statement);
  // A lone ':' does not lex as a parameter yet; it is the start of one all the same.
  const colon = !partial && text[at - 1] === ":";
  const typed = colon ? ":" : (partial?.image ?? "");
  const cursorStart = colon ? at - 1 : partial ? partial.startOffset : at;
  const matches: string[] = [];
  if (typed.startsWith(":")) {
    // Where a value or a name may stand, a :parameter may too.
    if (source?.variables && expected.some((e) => e.kind !== "keyword"))
      matches.push(...variableMatches(source.variables(), typed.slice(1)));
    return { matches, cursorStart, cursorEnd: at };
  }
  for (const expectation of expected) {
    if (expectation.kind === "keyword") matches.push(...keywordMatches(expectation, typed));
    if (expectation.kind === "name" && expectation.role === "axis") matches.push(...axisMatches(typed));
    else if (expectation.kind === "name" && expectation.role === "column" && source?.columns) {
      const table = fromCoordinate(text, at);
      if (table !== undefined) matches.push(...(await columnMatches(source, table, typed)));
    } else if (expectation.kind === "name" && source)
      matches.push(...(await nameMatches(source, expectation.role, typed)));
  }
  const depth = coordinateDepth(statement);
  if (depth !== undefined && source?.coordinates && expected.some((e) => e.kind === "value"))
    matches.push(...(await coordinateMatches(source, depth, typed)));
  return { matches: [...new Set(matches)], cursorStart, cursorEnd: at };
}

/** The coordinate after FROM in the statement around the cursor (SELECT names its table last). */
function fromCoordinate(text: string, at: number): string | undefined {
  const tokens = tokenizeLeniently(text);
  let start = 0;
  let end = tokens.length;
  for (let i = 0; i < tokens.length; i++) {
    if ((tokens[i] as IToken).tokenType !== Semicolon) continue;
    if ((tokens[i] as IToken).startOffset < at) start = i + 1;
    else {
      end = i;
      break;
    }
  }
  const statement = tokens.slice(start, end);
  const from = statement.findIndex((t) => t.tokenType.name === "FROM");
  const coordinate = from === -1 ? undefined : statement[from + 1];
  return coordinate?.tokenType === StringLiteral ? unquoteString(coordinate.image) : undefined;
}

/**
 * How deep a coordinate the statement wants next, by the words before it: a table after SELECT …
 * FROM, a schema after USING SHARE, PLOT … FROM and SHOW TRACE … FROM, a share after SHOW TABLES IN.
 */
function coordinateDepth(statement: IToken[]): CoordinateDepth | undefined {
  const words = statement.map((t) => t.tokenType.name);
  const previous = words[words.length - 1];
  if (previous === "FROM" && words[0] === "SELECT") return 3;
  if (previous === "FROM" && words[0] === "PLOT") return 2;
  if (previous === "FROM" && words[0] === "SHOW" && words[1] === "TRACE") return 2;
  if (previous === "SHARE" && words[words.length - 2] === "USING") return 2;
  if (previous === "IN" && words[words.length - 2] === "TABLES") return 1;
  return undefined;
}

async function coordinateMatches(
  source: NameSource,
  depth: CoordinateDepth,
  typed: string,
): Promise<string[]> {
  const quote = typed.startsWith('"') ? '"' : "'";
  const body = typed.replace(/^['"]/, "");
  const hash = body.lastIndexOf("#");
  const profile = hash === -1 ? null : body.slice(0, hash);
  const prefix = hash === -1 ? "" : body.slice(0, hash + 1);
  const wanted = body.slice(hash + 1).toLowerCase();
  const found = await within(() => source.coordinates?.(depth, profile) ?? Promise.resolve([]));
  return found
    .filter((c) => c.toLowerCase().startsWith(wanted))
    .sort((a, b) => a.localeCompare(b))
    .map((c) => quoteString(prefix + c, quote));
}

async function columnMatches(source: NameSource, table: string, typed: string): Promise<string[]> {
  const prefix = typed.replace(/^`/, "").toLowerCase();
  const columns = await within(() => source.columns?.(table) ?? Promise.resolve([]));
  // Columns keep the table's order: it is the order a reader knows them in.
  return columns.filter((c) => c.toLowerCase().startsWith(prefix)).map(writeName);
}

function variableMatches(variables: string[], typed: string): string[] {
  return variables
    .filter((name) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && name.startsWith(typed))
    .sort((a, b) => a.localeCompare(b))
    .map((name) => `:${name}`);
}

function axisMatches(typed: string): string[] {
  return ["step", "time"].filter((axis) => axis.startsWith(typed.toLowerCase()));
}

function keywordMatches(expectation: Extract<Expectation, { kind: "keyword" }>, typed: string): string[] {
  if (!/^[A-Za-z_]*$/.test(typed) || !expectation.word.startsWith(typed.toUpperCase())) return [];
  // Answer in the case the user types in.
  return [typed !== "" && typed === typed.toLowerCase() ? expectation.word.toLowerCase() : expectation.word];
}

async function nameMatches(source: NameSource, role: NameRole, typed: string): Promise<string[]> {
  const names = await namesWithin(source, role);
  const quote = typed.startsWith("'") || typed.startsWith('"') ? typed[0] : typed.startsWith("`") ? "`" : "";
  const prefix = (quote ? typed.slice(1) : typed).toLowerCase();
  // Experiments and models are written as strings ('/Users/me/churn'); other names bare when they can be.
  const asString = role === "experiment" || role === "model" || quote === "'" || quote === '"';
  return names
    .filter((name) => name.toLowerCase().startsWith(prefix))
    .sort((a, b) => a.localeCompare(b))
    .map((name) => (asString ? quoteString(name, quote === '"' ? '"' : "'") : writeName(name)));
}

function namesWithin(source: NameSource, role: NameRole): Promise<string[]> {
  return within(() => source.names(role));
}

async function within(names: () => Promise<string[]>): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string[]>((resolve) => {
    timer = setTimeout(() => resolve([]), NAME_TIMEOUT_MS);
  });
  try {
    // A source that fails (a server down, a step not wired) just offers no names.
    return await Promise.race([
      Promise.resolve()
        .then(names)
        .catch(() => []),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function writeName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !isKeywordWord(name)
    ? name
    : `\`${name.replace(/`/g, "``")}\``;
}

function quoteString(name: string, quote: string): string {
  return (
    quote +
    name
      .replace(/\\/g, "\\\\")
      .split(quote)
      .join(quote + quote) +
    quote
  );
}
