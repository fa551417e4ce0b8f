// The tokens of the %arcuate language and its lexer. Keywords are case-insensitive and grouped
// under the abstract `Keyword` category; each has `longer_alt: Identifier`, so a word that only
// starts with a keyword (`SHAREHOLDERS`, `models`) stays a name.
import { createToken, Lexer, type TokenType } from "chevrotain";

/** Abstract category of every keyword: lets the parser and completion treat them as a group. */
export const Keyword = createToken({ name: "Keyword", pattern: Lexer.NA });

export const Identifier = createToken({
  name: "Identifier",
  pattern: /[A-Za-z_][A-Za-z0-9_]*/,
  label: "a name",
});

/** The words of the language. Order does not matter here: `keywordTokens` sorts them. */
export const KEYWORDS = [
  "ADD",
  "ALTER",
  "AND",
  "AS",
  "BY",
  "COMMENT",
  "CREATE",
  "DESCRIBE",
  "DISPLAYNAME",
  "DROP",
  "EXISTS",
  "EXPERIMENT",
  "EXPLAIN",
  "FALSE",
  "FROM",
  "GRANT",
  "GRANTS",
  "HELP",
  "HISTORY",
  "IF",
  "IN",
  "IS",
  "LIKE",
  "LIMIT",
  "METRIC",
  "MLFLOW",
  "MODEL",
  "NOT",
  "NULL",
  "OAUTH",
  "OF",
  "ON",
  "OR",
  "PLOT",
  "PROFILE",
  "PROMPT",
  "PROPERTIES",
  "RECIPIENT",
  "RECIPIENTS",
  "REFRESH",
  "REMOVE",
  "REPLACE",
  "REVOKE",
  "SELECT",
  "SET",
  "SHARE",
  "SHARES",
  "SHOW",
  "TABLE",
  "TABLES",
  "TO",
  "TRACE",
  "TRUE",
  "USE",
  "USING",
  "VERSION",
  "WHERE",
  "WITH",
  "WITHOUT",
] as const;

export type KeywordWord = (typeof KEYWORDS)[number];

/** One token type per keyword, named by the word itself (so CST children read `ctx.SHARE`). */
export const K = Object.fromEntries(
  KEYWORDS.map((word) => [
    word,
    createToken({
      name: word,
      label: word,
      pattern: new RegExp(word, "i"),
      longer_alt: Identifier,
      categories: [Keyword],
    }),
  ]),
) as Record<KeywordWord, TokenType>;

// Quoted forms. A string is 'single' (or "double") quoted, with backslash escapes or a doubled
// quote; a back-quoted name doubles its back-quote. The "unterminated" twins match an opening
// quote that never closes, so the lexer reports it as one clear error instead of a stray quote.
export const StringLiteral = createToken({
  name: "StringLiteral",
  label: "a quoted string",
  pattern: /'(?:[^'\\]|\\[\s\S]|'')*'|"(?:[^"\\]|\\[\s\S]|"")*"/,
  line_breaks: true,
});
export const UnterminatedString = createToken({
  name: "UnterminatedString",
  label: "an unterminated string",
  pattern: /'(?:[^'\\]|\\[\s\S]|'')*|"(?:[^"\\]|\\[\s\S]|"")*/,
  line_breaks: true,
});
export const QuotedIdentifier = createToken({
  name: "QuotedIdentifier",
  label: "a back-quoted name",
  pattern: /`(?:[^`]|``)*`/,
  line_breaks: true,
});
export const UnterminatedQuotedIdentifier = createToken({
  name: "UnterminatedQuotedIdentifier",
  label: "an unterminated back-quoted name",
  pattern: /`(?:[^`]|``)*/,
  line_breaks: true,
});

export const NumberLiteral = createToken({
  name: "NumberLiteral",
  label: "a number",
  pattern: /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/,
});
export const Parameter = createToken({
  name: "Parameter",
  label: "a :parameter",
  pattern: /:[A-Za-z_][A-Za-z0-9_]*/,
});

export const Semicolon = createToken({ name: "Semicolon", pattern: ";", label: "';'" });
export const Comma = createToken({ name: "Comma", pattern: ",", label: "','" });
export const Dot = createToken({ name: "Dot", pattern: ".", label: "'.'" });
export const Star = createToken({ name: "Star", pattern: "*", label: "'*'" });
export const LParen = createToken({ name: "LParen", pattern: "(", label: "'('" });
export const RParen = createToken({ name: "RParen", pattern: ")", label: "')'" });
// Longer operators first: the lexer takes the first pattern that matches.
export const NotEquals = createToken({ name: "NotEquals", pattern: /!=|<>/, label: "'!='" });
export const LessOrEqual = createToken({ name: "LessOrEqual", pattern: "<=", label: "'<='" });
export const GreaterOrEqual = createToken({ name: "GreaterOrEqual", pattern: ">=", label: "'>='" });
export const Equals = createToken({ name: "Equals", pattern: "=", label: "'='" });
export const Less = createToken({ name: "Less", pattern: "<", label: "'<'" });
export const Greater = createToken({ name: "Greater", pattern: ">", label: "'>'" });

export const LineComment = createToken({ name: "LineComment", pattern: /--[^\n\r]*/, group: Lexer.SKIPPED });
export const BlockComment = createToken({
  name: "BlockComment",
  pattern: /\/\*[\s\S]*?\*\//,
  line_breaks: true,
  group: Lexer.SKIPPED,
});
export const UnterminatedComment = createToken({
  name: "UnterminatedComment",
  label: "an unterminated comment",
  pattern: /\/\*[\s\S]*/,
  line_breaks: true,
});
export const Whitespace = createToken({
  name: "Whitespace",
  pattern: /\s+/,
  group: Lexer.SKIPPED,
  line_breaks: true,
});

/**
 * Keyword tokens, longest word first: `SHARES` must be tried before `SHARE`, or `shares` would
 * lex as SHARE followed by its longer alternative, an Identifier.
 */
export const keywordTokens: TokenType[] = [...KEYWORDS]
  .sort((a, b) => b.length - a.length || a.localeCompare(b))
  .map((word) => K[word]);

/** Every token, in the order the lexer tries them. */
export const allTokens: TokenType[] = [
  Whitespace,
  LineComment,
  BlockComment,
  UnterminatedComment,
  StringLiteral,
  UnterminatedString,
  QuotedIdentifier,
  UnterminatedQuotedIdentifier,
  NumberLiteral,
  Parameter,
  Keyword,
  ...keywordTokens,
  Identifier,
  Semicolon,
  Comma,
  Dot,
  Star,
  LParen,
  RParen,
  NotEquals,
  LessOrEqual,
  GreaterOrEqual,
  Equals,
  Less,
  Greater,
];

/** Tokens the lexer produces only to report them as errors; the parser never expects them. */
export const unterminatedTokens: ReadonlySet<TokenType> = new Set([
  UnterminatedString,
  UnterminatedQuotedIdentifier,
  UnterminatedComment,
]);

export const arcuateLexer = new Lexer(allTokens, { positionTracking: "full", ensureOptimizations: false });

const keywordSet: ReadonlySet<string> = new Set(KEYWORDS);

/** Whether a word (in any case) is a keyword, and so must be back-quoted to be used as a name. */
export function isKeywordWord(word: string): boolean {
  return keywordSet.has(word.toUpperCase());
}
