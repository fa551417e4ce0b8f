// SELECT … WHERE as data: compiled from the AST into a RowFilter (plan.ts), applied to rows here,
// and offered to a Delta Sharing server as a JSON predicate hint. The server may ignore hints, so
// the rows are always filtered here as well.
import type { Condition } from "../../grammar/ast.js";
import type { JsonPredicate } from "../sharing/protocol.js";
import type { RowFilter, Scalar } from "./plan.js";
import { type BindContext, bindScalar, bindString } from "./values.js";

export function compileFilter(condition: Condition, context: BindContext): RowFilter {
  switch (condition.kind) {
    case "and":
    case "or": {
      const sides = [compileFilter(condition.left, context), compileFilter(condition.right, context)];
      // Flatten a AND b AND c into one node: shorter plans, flatter JSON hints.
      const children = sides.flatMap((side) => (side.op === condition.kind ? side.children : [side]));
      return { op: condition.kind, children };
    }
    case "not":
      return { op: "not", child: compileFilter(condition.operand, context) };
    case "compare":
      return {
        op: "compare",
        operator: condition.operator,
        column: condition.column,
        value: bindScalar(condition.value, context),
      };
    case "isNull":
      return negate({ op: "isNull", column: condition.column }, condition.negated);
    case "in":
      return negate(
        {
          op: "in",
          column: condition.column,
          values: condition.values.map((value) => bindScalar(value, context)),
        },
        condition.negated,
      );
    case "like":
      return negate(
        {
          op: "like",
          column: condition.column,
          pattern: bindString(condition.pattern, context, "a LIKE pattern"),
        },
        condition.negated,
      );
  }
}

function negate(filter: RowFilter, negated: boolean): RowFilter {
  return negated ? { op: "not", child: filter } : filter;
}

/**
 * Whether a row passes. A comparison with a missing or null value is false (as in SQL), and so
 * is its negation's operand: NOT (x = 1) is true for a null x here, a two-valued simplification.
 */
export function matchesFilter(filter: RowFilter, row: Record<string, unknown>): boolean {
  switch (filter.op) {
    case "and":
      return filter.children.every((child) => matchesFilter(child, row));
    case "or":
      return filter.children.some((child) => matchesFilter(child, row));
    case "not":
      return !matchesFilter(filter.child, row);
    case "isNull":
      return row[filter.column] === null || row[filter.column] === undefined;
    case "in":
      return filter.values.some((value) => compare(row[filter.column], value) === 0);
    case "like":
      return (
        typeof row[filter.column] === "string" &&
        likePattern(filter.pattern).test(row[filter.column] as string)
      );
    case "compare": {
      const order = compare(row[filter.column], filter.value);
      if (order === undefined) return false;
      switch (filter.operator) {
        case "=":
          return order === 0;
        case "!=":
          return order !== 0;
        case "<":
          return order < 0;
        case "<=":
          return order <= 0;
        case ">":
          return order > 0;
        case ">=":
          return order >= 0;
      }
    }
  }
}

/** -1, 0 or 1; undefined when either side is null or they cannot be compared. */
function compare(actual: unknown, expected: Scalar): number | undefined {
  if (actual === null || actual === undefined || expected === null) return undefined;
  let left: unknown = actual;
  if (typeof actual === "bigint") left = Number(actual);
  if (actual instanceof Date) left = typeof expected === "number" ? actual.getTime() : actual.toISOString();
  if (
    typeof left === "number" &&
    typeof expected === "string" &&
    expected.trim() !== "" &&
    !Number.isNaN(Number(expected))
  ) {
    return Math.sign(left - Number(expected));
  }
  if (typeof left !== typeof expected) return undefined;
  if (left === expected) return 0;
  return (left as string | number | boolean) < expected ? -1 : 1;
}

function likePattern(pattern: string): RegExp {
  const source = [...pattern]
    .map((char) => (char === "%" ? ".*" : char === "_" ? "." : char.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`, "s");
}

const JSON_OPS = {
  "=": "equal",
  "<": "lessThan",
  "<=": "lessThanOrEqual",
  ">": "greaterThan",
  ">=": "greaterThanOrEqual",
};

/**
 * The filter as a Delta Sharing JSON predicate hint (PROTOCOL.md, "JSON predicates for
 * filtering"), or undefined for "no hint". A hint may keep more rows than asked, never fewer: a
 * conjunct with no JSON form is dropped, but under NOT only an exact form will do.
 */
export function toJsonPredicate(filter: RowFilter): JsonPredicate | undefined {
  switch (filter.op) {
    case "and": {
      const children = filter.children
        .map((child) => toJsonPredicate(child))
        .filter((child): child is JsonPredicate => child !== undefined);
      if (children.length === 0) return undefined;
      return children.length === 1 ? children[0] : { op: "and", children };
    }
    case "or": {
      const children = filter.children.map(toJsonPredicate);
      return allDefined(children) ? { op: "or", children } : undefined;
    }
    default:
      return exactJsonPredicate(filter);
  }
}

/** The exact JSON form of a filter, or undefined when it has none (LIKE, IS NULL, NULL literals). */
function exactJsonPredicate(filter: RowFilter): JsonPredicate | undefined {
  switch (filter.op) {
    case "and":
    case "or": {
      const children = filter.children.map(exactJsonPredicate);
      return allDefined(children) ? { op: filter.op, children } : undefined;
    }
    case "not": {
      const child = exactJsonPredicate(filter.child);
      return child ? { op: "not", children: [child] } : undefined;
    }
    case "compare": {
      if (filter.operator === "!=") {
        const equal = exactJsonPredicate({ ...filter, operator: "=" });
        return equal ? { op: "not", children: [equal] } : undefined;
      }
      return comparison(JSON_OPS[filter.operator], filter.column, filter.value);
    }
    case "in": {
      const children = filter.values.map((value) => comparison("equal", filter.column, value));
      if (children.length === 0 || !allDefined(children)) return undefined;
      return children.length === 1 ? children[0] : { op: "or", children };
    }
    default:
      // IS NULL needs the column's type, which only the table knows; LIKE has no JSON form.
      return undefined;
  }
}

function comparison(op: string, name: string, value: Scalar): JsonPredicate | undefined {
  if (value === null) return undefined;
  // The column is taken to have the literal's type: a hint the server cannot apply it ignores.
  const valueType =
    typeof value === "boolean"
      ? "boolean"
      : typeof value === "number"
        ? Number.isInteger(value)
          ? "long"
          : "double"
        : "string";
  return {
    op,
    children: [
      { op: "column", name, valueType },
      { op: "literal", value: String(value), valueType },
    ],
  };
}

function allDefined<T>(items: (T | undefined)[]): items is T[] {
  return items.every((item) => item !== undefined);
}
