// `jsonPredicateHints` (PROTOCOL.md #json-predicates-for-filtering) applied to partition values as
// a best-effort hint: a file is skipped only when the predicate is certainly false (or SQL NULL)
// for its partition values. Anything the evaluator does not understand (a data column, an unknown
// op or type, a malformed tree) makes the result "unknown", and the file is kept.
import type { JsonPredicate } from "../protocol.js";

type Value = string | number | boolean | null;
/** true/false/null are SQL's three values; undefined means "cannot tell". */
type Truth = boolean | null | undefined;

export type FileFilter = (partitionValues: Record<string, string | null>) => boolean;

/** A filter from a hint; a hint that does not parse filters nothing. */
export function partitionFilter(hint: string | undefined, partitionColumns: string[]): FileFilter {
  if (!hint || partitionColumns.length === 0) return () => true;
  let tree: JsonPredicate;
  try {
    tree = JSON.parse(hint) as JsonPredicate;
  } catch {
    return () => true;
  }
  const columns = new Map(partitionColumns.map((c) => [c.toLowerCase(), c]));
  return (values) => {
    try {
      const truth = evaluate(tree, values, columns, 0);
      return truth !== false && truth !== null;
    } catch {
      return true;
    }
  };
}

const MAX_DEPTH = 64;

function evaluate(
  node: JsonPredicate,
  values: Record<string, string | null>,
  columns: Map<string, string>,
  depth: number,
): Truth {
  if (depth > MAX_DEPTH || typeof node !== "object" || node === null) return undefined;
  const children = Array.isArray(node.children) ? node.children : [];
  switch (node.op) {
    case "and": {
      const results = children.map((c) => evaluate(c, values, columns, depth + 1));
      if (results.length < 2) return undefined;
      if (results.includes(false)) return false;
      if (results.includes(undefined)) return undefined;
      return results.includes(null) ? null : true;
    }
    case "or": {
      const results = children.map((c) => evaluate(c, values, columns, depth + 1));
      if (results.length < 2) return undefined;
      if (results.includes(true)) return true;
      if (results.includes(undefined)) return undefined;
      return results.includes(null) ? null : false;
    }
    case "not": {
      if (children.length !== 1) return undefined;
      const r = evaluate(children[0]!, values, columns, depth + 1);
      return r === undefined || r === null ? r : !r;
    }
    case "isNull": {
      if (children.length !== 1) return undefined;
      const v = leaf(children[0]!, values, columns);
      return v === undefined ? undefined : v === null;
    }
    case "equal":
    case "lessThan":
    case "lessThanOrEqual":
    case "greaterThan":
    case "greaterThanOrEqual": {
      if (children.length !== 2) return undefined;
      const type = children.find((c) => c.op === "literal")?.valueType ?? children[0]!.valueType;
      const a = typed(leaf(children[0]!, values, columns), type);
      const b = typed(leaf(children[1]!, values, columns), type);
      if (a === undefined || b === undefined) return undefined;
      if (a === null || b === null) return null;
      const cmp = a < b ? -1 : a > b ? 1 : 0;
      switch (node.op) {
        case "equal":
          return cmp === 0;
        case "lessThan":
          return cmp < 0;
        case "lessThanOrEqual":
          return cmp <= 0;
        case "greaterThan":
          return cmp > 0;
        default:
          return cmp >= 0;
      }
    }
    default:
      return undefined;
  }
}

/** A leaf's raw value: a partition column's value, or a literal; undefined when not known. */
function leaf(
  node: JsonPredicate,
  values: Record<string, string | null>,
  columns: Map<string, string>,
): string | null | undefined {
  if (node.op === "literal") return typeof node.value === "string" ? node.value : undefined;
  if (node.op === "column" && typeof node.name === "string") {
    const column = columns.get(node.name.toLowerCase());
    if (column === undefined) return undefined; // a data column: only the file's rows could tell
    const value = values[column];
    // An empty partition value is null (PROTOCOL.md "Partition Value Serialization").
    return value === undefined || value === null || value === "" ? null : value;
  }
  return undefined;
}

function typed(raw: string | null | undefined, type: string | undefined): Value | undefined {
  if (raw === undefined || raw === null) return raw;
  switch (type) {
    case "int":
    case "long":
    case "float":
    case "double": {
      const n = Number(raw);
      return Number.isNaN(n) ? undefined : n;
    }
    case "bool":
      return raw === "true" ? 1 : raw === "false" ? 0 : undefined;
    case "timestamp": {
      const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(raw) ? raw : `${raw.replace(" ", "T")}Z`);
      return Number.isNaN(t) ? undefined : t;
    }
    case "date":
    case "string":
      return raw;
    default:
      return undefined;
  }
}
