// Text → tokens → CST → AST. The one entry point of the grammar: it returns a Script or throws a
// positioned ParseError, and nothing else (a property test holds it to that).
import type { IToken } from "chevrotain";
import type { Script } from "./ast.js";
import { buildScript } from "./build-ast.js";
import { arcuateParser } from "./parser.js";
import { grammarError, lexicalError } from "./syntax-errors.js";
import { arcuateLexer } from "./tokens.js";

export function parse(text: string): Script {
  const tokens = tokenize(text);
  arcuateParser.input = tokens;
  const cst = arcuateParser.script();
  // Copy the errors before anything else reuses the parser (describing an error does).
  const errors = [...arcuateParser.errors];
  if (errors.length > 0) throw grammarError(text, tokens, errors);
  return buildScript(cst, text);
}

/** The tokens of `text` (comments and white space dropped); throws on a lexical error. */
export function tokenize(text: string): IToken[] {
  const lexed = arcuateLexer.tokenize(text);
  const error = lexicalError(text, lexed.tokens, lexed.errors);
  if (error) throw error;
  return lexed.tokens;
}

/** The tokens of `text` as far as they lex, never throwing: what completion works from. */
export function tokenizeLeniently(text: string): IToken[] {
  return arcuateLexer.tokenize(text).tokens;
}
