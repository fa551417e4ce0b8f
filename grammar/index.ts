// The %arcuate grammar's public surface: parse text into a typed AST, and what completion and
// error messages need from the grammar. Named exports only.
export type {
  Alteration,
  CompareOperator,
  Condition,
  Literal,
  ParameterRef,
  Script,
  ShareObject,
  Source,
  Span,
  Statement,
  StatementKind,
  StatementOf,
  Value,
} from "./ast.js";
export { withoutPositions } from "./ast.js";
export { type Expectation, expectedAfter, type NameRole } from "./expected.js";
export { parse, tokenize, tokenizeLeniently } from "./parse.js";
export { KEYWORDS } from "./tokens.js";
