// The typed AST of the %arcuate language: a tagged union on `kind`, with small builders. Every
// node keeps the span of source it came from, so later stages (binding :parameters, checking a
// share coordinate) can point a caret at the exact place of a problem.

/** Where a node is in the script text: offsets (end exclusive) and the 1-based line and column. */
export interface Span {
  start: number;
  end: number;
  line: number;
  column: number;
}

/** A value written in the statement: a name, a string, a number, a boolean or NULL. */
export interface Literal {
  kind: "literal";
  value: string | number | boolean | null;
  span: Span;
}

/** `:name`, bound to a notebook variable when the statement is compiled (never spliced as text). */
export interface ParameterRef {
  kind: "parameter";
  name: string;
  span: Span;
}

export type Value = Literal | ParameterRef;

/** An experiment, registered model or prompt to export into a share, under a schema name (`AS x`). */
export interface ShareObject {
  kind: "experiment" | "model" | "prompt";
  name: Value;
  alias: Value | null;
  /** `WITHOUT traces`: what an experiment export leaves out, as written (checked when compiled). */
  without?: Value;
  /** Written in the original arcuate form `TABLE t FROM EXPERIMENT 'name'`. */
  legacyTableForm: boolean;
  span: Span;
}

export type Alteration =
  | { kind: "add"; object: ShareObject }
  | { kind: "remove"; alias: Value }
  /** What recipients see besides the name (SET DISPLAYNAME / COMMENT / PROPERTIES). */
  | { kind: "setDisplayName" | "setComment"; value: Value }
  /** `value: null` removes the property. */
  | { kind: "setProperties"; properties: Array<{ key: Value; value: Value | null }> };

/** What ALTER RECIPIENT sets or lifts: the addresses it may connect from, its request rate. */
export type RecipientLimitClause =
  | { kind: "setAllowedAddresses"; ranges: Value[] }
  /** `unit` as written: second, minute or hour (checked when compiled). */
  | { kind: "setRateLimit"; requests: Value; unit: Value }
  | { kind: "unsetAllowedAddresses" | "unsetRateLimit"; span: Span };

export type CompareOperator = "=" | "!=" | "<" | "<=" | ">" | ">=";

export type Condition =
  | { kind: "and" | "or"; left: Condition; right: Condition }
  | { kind: "not"; operand: Condition }
  | { kind: "compare"; column: string; operator: CompareOperator; value: Value }
  | { kind: "isNull"; column: string; negated: boolean }
  | { kind: "in"; column: string; values: Value[]; negated: boolean }
  | { kind: "like"; column: string; pattern: Value; negated: boolean };

/** The statement's own text, for messages and EXPLAIN. */
export interface Source {
  text: string;
  span: Span;
}

export type Statement = (
  | { kind: "createShare"; share: Value; ifNotExists: boolean; comment: Value | null; objects: ShareObject[] }
  | { kind: "alterShare"; share: Value; alterations: Alteration[] }
  | { kind: "refreshShare"; share: Value; alias: Value | null }
  | { kind: "dropShare"; share: Value; ifExists: boolean }
  | {
      kind: "createRecipient";
      recipient: Value;
      ifNotExists: boolean;
      /** USING OAUTH: client credentials and short-lived access tokens instead of a bearer token. */
      oauth: boolean;
      comment: Value | null;
      /** `WITH ACTIVATION LINK`: no profile now, a one-time link to download it. */
      activationLink?: true;
    }
  | { kind: "alterRecipient"; recipient: Value; limits: RecipientLimitClause[] }
  | { kind: "dropRecipient"; recipient: Value; ifExists: boolean }
  | { kind: "grant" | "revoke"; share: Value; recipient: Value }
  | { kind: "showShares" }
  | { kind: "showRemoteShares"; profile: Value }
  | { kind: "showRecipients" }
  | { kind: "showGrants"; share: Value | null; recipient: Value | null }
  | { kind: "showAccess"; share: Value | null; recipient: Value | null; since: Value | null }
  | { kind: "showTables"; share: Value }
  | { kind: "showRemoteTables"; coordinate: Value }
  | { kind: "showRemoteModels"; coordinate: Value }
  | {
      kind: "showTrace";
      traceId: Value;
      /** A shared experiment ('profile#share.schema'), or an experiment in MLflow. */
      from: { kind: "share"; coordinate: Value } | { kind: "experiment"; name: Value };
    }
  | { kind: "describeShare"; share: Value }
  | { kind: "describeRecipient"; recipient: Value }
  | { kind: "describeHistory"; share: Value; alias: Value; table: Value }
  | {
      kind: "importExperiment" | "importModel" | "importPrompt";
      name: Value;
      orReplace: boolean;
      coordinate: Value;
      version: Value | null;
    }
  | {
      kind: "select";
      columns: string[] | null;
      from: Value;
      version: Value | null;
      where: Condition | null;
      limit: Value | null;
    }
  | {
      kind: "plotMetric";
      metric: Value;
      /** A shared experiment ('profile#share.schema'), or an experiment in MLflow. */
      from: { kind: "share"; coordinate: Value } | { kind: "experiment"; name: Value };
      /** `BY step` or `BY time`, as written (checked when compiled); null for the default, step. */
      axis: Value | null;
    }
  | { kind: "useMlflow"; uri: Value }
  | { kind: "useProfile"; path: Value }
  | { kind: "explain"; statement: Statement }
  | { kind: "help"; topic: string | null }
) & { source: Source };

export type StatementKind = Statement["kind"];

/** A statement of one kind, e.g. `StatementOf<"createShare">`. */
export type StatementOf<K extends StatementKind> = Extract<Statement, { kind: K }>;

export interface Script {
  text: string;
  statements: Statement[];
}

// Builders: the visitor and tests construct nodes through these.

export function literal(value: Literal["value"], span: Span): Literal {
  return { kind: "literal", value, span };
}

export function parameterRef(name: string, span: Span): ParameterRef {
  return { kind: "parameter", name, span };
}

export function shareObject(
  kind: ShareObject["kind"],
  name: Value,
  alias: Value | null,
  span: Span,
  legacyTableForm = false,
  without: Value | null = null,
): ShareObject {
  return { kind, name, alias, ...(without ? { without } : {}), legacyTableForm, span };
}

export function binary(kind: "and" | "or", left: Condition, right: Condition): Condition {
  return { kind, left, right };
}

/** A span covering both `a` and `b` (a before b). */
export function joinSpans(a: Span, b: Span): Span {
  return { start: a.start, end: b.end, line: a.line, column: a.column };
}

/** A copy of an AST with every `span` and `source` removed: what tests compare. */
export function withoutPositions(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutPositions);
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key !== "span" && key !== "source") out[key] = withoutPositions(value);
  }
  return out;
}
