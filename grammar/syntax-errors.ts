// Syntax errors as a good SQL engine writes them: where (line, column, the line with a caret under
// the offending token), what was expected in words ("expected EXPERIMENT, MODEL or TABLE after
// WITH"), what was found, and the keyword a typo was probably meant to be.
import { EOF, type ILexingError, type IRecognitionException, type IToken } from "chevrotain";
import { ParseError } from "../src/errors.js";
import { excerpt, type Position, positionAt } from "./excerpt.js";
import {
  type Expectation,
  expectedAfter,
  isCompleteStatement,
  isKeywordType,
  listInWords,
} from "./expected.js";
import { nearestWord } from "./suggest.js";
import {
  Identifier,
  QuotedIdentifier,
  Semicolon,
  UnterminatedComment,
  UnterminatedQuotedIdentifier,
  UnterminatedString,
} from "./tokens.js";

/**
 * A positioned error: "syntax error at line L, column C: <what>" and the caret excerpt. Errors
 * about a well-formed statement that cannot be right (a bad coordinate) lead with "error".
 */
export function syntaxError(
  text: string,
  position: Position,
  what: string,
  length = 1,
  lead = "syntax error",
): ParseError {
  const message = `${lead} at line ${position.line}, column ${position.column}: ${what}\n${excerpt(text, position, length)}`;
  return new ParseError(message, position);
}

/** The first problem the lexer met: an unterminated quote or comment, or a character it does not know. */
export function lexicalError(text: string, tokens: IToken[], errors: ILexingError[]): ParseError | undefined {
  const unterminated = tokens.find(
    (token) =>
      token.tokenType === UnterminatedString ||
      token.tokenType === UnterminatedQuotedIdentifier ||
      token.tokenType === UnterminatedComment,
  );
  const lexing = errors[0];
  if (unterminated && (!lexing || unterminated.startOffset < lexing.offset)) {
    const position = positionAt(text, unterminated.startOffset);
    const opening = unterminated.image.slice(0, unterminated.tokenType === UnterminatedComment ? 2 : 1);
    const what =
      unterminated.tokenType === UnterminatedComment
        ? "this comment is never closed: end it with */"
        : unterminated.tokenType === UnterminatedString
          ? `this string is never closed: end it with ${opening}`
          : "this back-quoted name is never closed: end it with `";
    return syntaxError(text, position, what, opening.length);
  }
  if (!lexing) return undefined;
  const position = positionAt(text, lexing.offset);
  const char = text.slice(lexing.offset, lexing.offset + lexing.length).slice(0, 1);
  const hint = char === ":" ? " (a parameter is written :name, a letter right after the colon)" : "";
  return syntaxError(text, position, `unexpected character ${JSON.stringify(char)}${hint}`);
}

/** The ParseError for the parser's first error, with a count of any further ones. */
export function grammarError(text: string, tokens: IToken[], errors: IRecognitionException[]): ParseError {
  const first = errors[0] as IRecognitionException;
  const found = first.token;
  const atEnd = found.tokenType === EOF || Number.isNaN(found.startOffset);
  const index = atEnd ? tokens.length : tokens.findIndex((token) => token.startOffset === found.startOffset);
  let start = index;
  while (start > 0 && (tokens[start - 1] as IToken).tokenType !== Semicolon) start--;
  const prefix = tokens.slice(start, Math.max(index, start));
  const position = atEnd ? endPosition(text, tokens) : positionAt(text, found.startOffset);
  const what = explain(prefix, atEnd ? undefined : found, tokens[index + 1]) ?? first.message;
  const others = [
    ...new Set(
      errors
        .slice(1)
        .map((error) => error.token.startLine)
        .filter((line) => line !== undefined && line !== position.line),
    ),
  ];
  const more =
    others.length > 0
      ? ` (more syntax errors on line${others.length > 1 ? "s" : ""} ${others.join(", ")})`
      : "";
  return syntaxError(text, position, what + more, atEnd ? 1 : found.image.length);
}

function explain(prefix: IToken[], found: IToken | undefined, next: IToken | undefined): string | undefined {
  const foundWords = found ? describeToken(found) : "the end of the input";
  const previous = prefix[prefix.length - 1];
  if (!previous) {
    const starts = expectedAfter([]).map((e) => e.label);
    const suggestion = found ? typoHint(found, starts) : "";
    return `expected a statement (${listInWords(starts, 20)}), found ${foundWords}${suggestion}`;
  }
  const expected = expectedAfter(prefix);
  if (expected.length === 0) return undefined;
  const complete = isCompleteStatement(prefix);
  const labels = expected.map((e) => e.label);
  if (complete) labels.push(found?.tokenType === Semicolon ? "';'" : "the end of the statement");
  const after = ` after ${describeToken(previous)}`;
  let message = `expected ${listInWords(labels)}${after}, found ${foundWords}`;
  if (
    found &&
    complete &&
    expectedAfter([]).some((e) => e.kind === "keyword" && e.word === found.tokenType.name)
  ) {
    message += "; separate statements with ';'";
    return message;
  }
  if (found)
    message +=
      typoHint(found, keywordsOf(expected)) +
      keywordAsNameHint(found, expected) +
      spacedNameHint(prefix, found, next, expected, complete);
  return message;
}

// Roles whose names the protocol and the catalog allow no space in (they stand in URLs and in
// `profile#share.schema.table` coordinates); experiments and models may have spaces when quoted.
const SPACELESS_ROLES = new Set(["share", "schema", "recipient", "table"]);

/**
 * "CREATE SHARE my share": a name followed by another word where the statement expected a
 * keyword. Says how names with spaces are written, and that some kinds of name cannot have one.
 */
function spacedNameHint(
  prefix: IToken[],
  found: IToken,
  next: IToken | undefined,
  expected: Expectation[],
  complete: boolean,
): string {
  const previous = prefix[prefix.length - 1];
  if (!previous || (previous.tokenType !== Identifier && previous.tokenType !== QuotedIdentifier)) return "";
  if (found.tokenType !== Identifier && !isKeywordType(found.tokenType)) return "";
  // Only when the statement goes on as it should once the two words are read as one name: after
  // "GRANT … ON SHARE s RECIPIENT r" the word is a missing TO, not half of a name.
  const goesOn =
    next === undefined || next.tokenType === Semicolon
      ? complete
      : keywordsOf(expected).includes(next.tokenType.name);
  if (!goesOn) return "";
  const named = expectedAfter(prefix.slice(0, -1)).find((e) => e.kind === "name");
  const role = named?.kind === "name" ? named.role : undefined;
  const joined = `${unquoted(previous.image)}_${found.image}`;
  if (role && SPACELESS_ROLES.has(role)) {
    return `; a ${role} name is one word and cannot hold spaces: write ${joined}`;
  }
  return `; a name with spaces is quoted: '${unquoted(previous.image)} ${found.image}'`;
}

function unquoted(image: string): string {
  return image.startsWith("`") ? image.slice(1, -1).replace(/``/g, "`") : image;
}

function keywordsOf(expected: Expectation[]): string[] {
  return expected.flatMap((e) => (e.kind === "keyword" ? [e.word] : []));
}

/** "; did you mean EXPERIMENT?" when the found word is a near miss of an expected keyword. */
function typoHint(found: IToken, keywords: string[]): string {
  if (found.tokenType !== Identifier && !isKeywordType(found.tokenType)) return "";
  const nearest = nearestWord(
    found.image,
    keywords.filter((word) => /^[A-Z]+$/.test(word)),
  );
  return nearest && nearest !== found.image.toUpperCase() ? `; did you mean ${nearest}?` : "";
}

// Keywords that are plausible names (a share called `model`); a hint to back-quote is noise for
// the others (WHERE LIMIT 5 lacks a condition, it does not name a column LIMIT).
const NOUN_KEYWORDS = new Set([
  "COMMENT",
  "EXPERIMENT",
  "GRANTS",
  "HISTORY",
  "MLFLOW",
  "MODEL",
  "PROFILE",
  "RECIPIENT",
  "RECIPIENTS",
  "SHARE",
  "SHARES",
  "TABLE",
  "TABLES",
  "VERSION",
]);

function keywordAsNameHint(found: IToken, expected: Expectation[]): string {
  if (!NOUN_KEYWORDS.has(found.tokenType.name) || !expected.some((e) => e.kind === "name")) return "";
  return `; ${found.tokenType.name} is a keyword: to use it as a name, back-quote it (\`${found.image}\`)`;
}

function describeToken(token: IToken): string {
  if (isKeywordType(token.tokenType)) return token.tokenType.name;
  if (token.tokenType === Semicolon) return "';'";
  const image = token.image.length > 40 ? `${token.image.slice(0, 37)}…` : token.image;
  return token.tokenType === Identifier ? image : image.startsWith("'") ? image : `'${image}'`;
}

/** Where "the end of the input" is: just after the last token. */
function endPosition(text: string, tokens: IToken[]): Position {
  const last = tokens[tokens.length - 1];
  if (!last) return positionAt(text, text.trimEnd().length);
  return positionAt(text, (last.endOffset ?? last.startOffset) + 1);
}
