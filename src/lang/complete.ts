// Completion for the kernel: given a cell and a cursor offset, the keywords that may come next
// (from the grammar, through Chevrotain's content assist) and the names that exist (from a
// NameSource: shares, recipients, experiments, models).
import type { IToken } from "chevrotain";
import { type Expectation, expectedAfter, isKeywordType, type NameRole } from "../../grammar/expected.js";
import { tokenizeLeniently } from "../../grammar/parse.js";
import {
  Identifier,
  isKeywordWord,
  Parameter,
  QuotedIdentifier,
  Semicolon,
  UnterminatedQuotedIdentifier,
  UnterminatedString,
} from "../../grammar/tokens.js";

/** The names that exist, by role. Answers should be quick; completion waits at most a moment. */
export interface NameSource {
  names(role: NameRole): Promise<string[]>;
}

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
  const expected = expectedAfter(before.slice(start));
  const typed = partial?.image ?? "";
  const matches: string[] = [];
  for (const expectation of expected) {
    if (expectation.kind === "keyword") matches.push(...keywordMatches(expectation, typed));
    if (expectation.kind === "name" && source)
      matches.push(...(await nameMatches(source, expectation.role, typed)));
  }
  return { matches: [...new Set(matches)], cursorStart: partial ? partial.startOffset : at, cursorEnd: at };
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

async function namesWithin(source: NameSource, role: NameRole): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string[]>((resolve) => {
    timer = setTimeout(() => resolve([]), NAME_TIMEOUT_MS);
  });
  try {
    // A source that fails (a server down, a step not wired) just offers no names.
    return await Promise.race([source.names(role).catch(() => []), timeout]);
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
