// Turning AST values into plan values: literals as written, :parameters bound to the value of a
// notebook variable. A bound value is data in the plan and never becomes statement text, so a
// variable holding `x'; DROP SHARE s` is just an odd name.
import type { Span, Value } from "../../grammar/ast.js";
import { excerpt } from "../../grammar/excerpt.js";
import { syntaxError } from "../../grammar/syntax-errors.js";
import { ArcuateError, type ParseError } from "../errors.js";
import type { Scalar } from "./plan.js";

export interface BindContext {
  /** The whole script text the spans point into. */
  text: string;
  variables?: ((name: string) => unknown) | undefined;
}

/** An error about how a statement is written, with a caret under `span`. */
export function statementError(context: BindContext, span: Span, what: string): ParseError {
  // Not a grammar error: the same position and caret, without the "syntax" lead-in.
  return syntaxError(context.text, span, what, span.end - span.start, "error");
}

/** An error about a bound value (unknown variable, wrong type), with a caret under the parameter. */
function parameterError(context: BindContext, span: Span, what: string): ArcuateError {
  const message = `error at line ${span.line}, column ${span.column}: ${what}\n${excerpt(context.text, span, span.end - span.start)}`;
  return new ArcuateError("INVALID_PARAMETER_VALUE", message, {
    details: { line: span.line, column: span.column },
  });
}

function resolve(value: Value, context: BindContext): unknown {
  if (value.kind === "literal") return value.value;
  if (!context.variables) {
    throw parameterError(
      context,
      value.span,
      `:${value.name} has no value: parameters take notebook variables, and none are available here`,
    );
  }
  let bound: unknown;
  try {
    bound = context.variables(value.name);
  } catch (cause) {
    throw parameterError(context, value.span, `reading variable ${value.name} failed: ${String(cause)}`);
  }
  if (bound === undefined) {
    throw parameterError(
      context,
      value.span,
      `unknown variable :${value.name}: define ${value.name} before this statement`,
    );
  }
  return bound;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "string"
    ? `the string ${JSON.stringify(value)}`
    : `${typeof value} ${String(value)}`;
}

/** A string: a name, a path, a URL. `what` says what it is, for the error. */
export function bindString(value: Value, context: BindContext, what: string): string {
  const bound = resolve(value, context);
  if (typeof bound === "string") return bound;
  const where = value.kind === "parameter" ? `:${value.name}` : what;
  throw parameterError(context, value.span, `${where} must be a string (${what}), got ${describe(bound)}`);
}

/** A whole number ≥ 0 (a version, a row limit); numeric strings from variables are accepted. */
export function bindCount(value: Value, context: BindContext, what: string): number {
  const bound = resolve(value, context);
  const number =
    typeof bound === "bigint"
      ? Number(bound)
      : typeof bound === "string" && /^\d+$/.test(bound)
        ? Number(bound)
        : bound;
  if (typeof number === "number" && Number.isSafeInteger(number) && number >= 0) return number;
  if (value.kind === "literal")
    throw statementError(context, value.span, `${what} must be a whole number ≥ 0, got ${String(bound)}`);
  throw parameterError(
    context,
    value.span,
    `:${value.name} must be a whole number ≥ 0 (${what}), got ${describe(bound)}`,
  );
}

/** A value to compare with in a WHERE condition. */
export function bindScalar(value: Value, context: BindContext): Scalar {
  const bound = resolve(value, context);
  if (bound === null || typeof bound === "string" || typeof bound === "number" || typeof bound === "boolean")
    return bound;
  if (typeof bound === "bigint" && Number.isSafeInteger(Number(bound))) return Number(bound);
  if (bound instanceof Date) return bound.toISOString();
  const name = value.kind === "parameter" ? value.name : "value";
  throw parameterError(
    context,
    value.span,
    `:${name} must be a string, number, boolean or null, got ${describe(bound)}`,
  );
}
