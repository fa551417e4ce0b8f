// CST → AST: plain functions over the generated CST types (grammar/cst.d.ts), one per rule.
// They run only on a CST that parsed without errors, so a missing child is a bug in the grammar
// or here, reported as an internal error rather than guessed around.
import type { CstNode, IToken } from "chevrotain";
import { ArcuateError } from "../src/errors.js";
import {
  type Alteration,
  binary,
  type CompareOperator,
  type Condition,
  literal,
  parameterRef,
  type RecipientLimitClause,
  type Script,
  type ShareObject,
  type Span,
  type Statement,
  shareObject,
  type Value,
} from "./ast.js";
import type {
  AlterationCstNode,
  AlterRecipientCstNode,
  AlterShareCstNode,
  CompareOperatorCstNode,
  ConditionCstNode,
  ConjunctionCstNode,
  CreateImportCstNode,
  CreateShareCstNode,
  CreateStatementCstNode,
  DescribeStatementCstNode,
  DropStatementCstNode,
  LiteralCstNode,
  NameCstNode,
  NegationCstNode,
  PlotStatementCstNode,
  PredicateCstNode,
  RecipientLimitCstNode,
  RefreshShareCstNode,
  ScriptCstNode,
  SelectStatementCstNode,
  ShareDetailCstNode,
  ShareObjectCstNode,
  ShowStatementCstNode,
  StatementCstNode,
  UseStatementCstNode,
} from "./cst.js";

/** A statement before its source is attached (Omit applied to each member of the union). */
type Body = Statement extends infer S ? (S extends unknown ? Omit<S, "source"> : never) : never;

/**
 * The AST of a script's CST. Takes a plain CstNode so the generated CST types stay internal to
 * the grammar (they are a .d.ts file, which a build does not copy).
 */
export function buildScript(cst: CstNode, text: string): Script {
  // The node of the `script` rule has the generated shape by construction.
  const script = cst as ScriptCstNode;
  const statements = (script.children.statement ?? []).map((node) => buildStatement(node, text));
  return { text, statements };
}

function buildStatement(node: StatementCstNode, text: string): Statement {
  const span = nodeSpan(node);
  // A spread of a union member keeps its kind, but TypeScript cannot see that through Omit.
  return {
    ...statementBody(node, text),
    source: { text: text.slice(span.start, span.end), span },
  } as Statement;
}

/** The statement without its source: exactly one child of a `statement` node is present. */
function statementBody(node: StatementCstNode, text: string): Body {
  const c = node.children;
  if (c.createStatement) return createStatement(one(c.createStatement));
  if (c.alterShare) return alterShare(one(c.alterShare));
  if (c.alterRecipient) return alterRecipient(one(c.alterRecipient));
  if (c.refreshShare) return refreshShare(one(c.refreshShare));
  if (c.dropStatement) return dropStatement(one(c.dropStatement));
  if (c.grantStatement) return grantOrRevoke("grant", one(c.grantStatement).children);
  if (c.revokeStatement) return grantOrRevoke("revoke", one(c.revokeStatement).children);
  if (c.showStatement) return showStatement(one(c.showStatement));
  if (c.describeStatement) return describeStatement(one(c.describeStatement));
  if (c.selectStatement) return selectStatement(one(c.selectStatement));
  if (c.plotStatement) return plotStatement(one(c.plotStatement));
  if (c.useStatement) return useStatement(one(c.useStatement));
  if (c.explainStatement) {
    return {
      kind: "explain",
      statement: buildStatement(one(one(c.explainStatement).children.statement), text),
    };
  }
  return helpStatement(node);
}

function createStatement(node: CreateStatementCstNode): Body {
  const c = node.children;
  if (c.createShare) return createShare(one(c.createShare));
  if (c.createRecipient) {
    const r = one(c.createRecipient).children;
    return {
      kind: "createRecipient",
      recipient: name(r.recipientName),
      ifNotExists: r.IF !== undefined,
      oauth: r.OAUTH !== undefined,
      comment: r.stringValue ? stringValue(r.stringValue) : null,
      ...(r.ACTIVATION ? { activationLink: true as const } : {}),
    };
  }
  return createImport(one(c.createImport));
}

function createShare(node: CreateShareCstNode): Body {
  const c = node.children;
  return {
    kind: "createShare",
    share: name(c.shareName),
    ifNotExists: c.IF !== undefined,
    comment: c.stringValue ? stringValue(c.stringValue) : null,
    objects: (c.shareObject ?? []).map(buildShareObject),
  };
}

function buildShareObject(node: ShareObjectCstNode): ShareObject {
  const c = node.children;
  const kind = c.EXPERIMENT ? "experiment" : c.PROMPT ? "prompt" : "model";
  const objectName = objectNameOf(c);
  if (c.TABLE) return shareObject(kind, objectName, name(c.exportName), nodeSpan(node), true);
  const without = c.assetName ? name(c.assetName) : null;
  return shareObject(
    kind,
    objectName,
    c.exportName ? name(c.exportName) : null,
    nodeSpan(node),
    false,
    without,
  );
}

/** The experiment's, model's or prompt's name of a share object, alteration or import. */
function objectNameOf(c: {
  experimentName?: NamedNode[];
  modelName?: NamedNode[];
  promptName?: NamedNode[];
}): Value {
  return c.experimentName ? name(c.experimentName) : c.promptName ? name(c.promptName) : name(c.modelName);
}

function createImport(node: CreateImportCstNode): Body {
  const c = node.children;
  return {
    kind: c.EXPERIMENT ? "importExperiment" : c.PROMPT ? "importPrompt" : "importModel",
    name: objectNameOf(c),
    orReplace: c.REPLACE !== undefined,
    coordinate: stringValue(c.stringValue),
    version: c.integerValue ? integerValue(c.integerValue) : null,
  };
}

function alterShare(node: AlterShareCstNode): Body {
  const c = node.children;
  return { kind: "alterShare", share: name(c.shareName), alterations: c.alteration.map(buildAlteration) };
}

function alterRecipient(node: AlterRecipientCstNode): Body {
  const c = node.children;
  return {
    kind: "alterRecipient",
    recipient: name(c.recipientName),
    limits: c.recipientLimit.map(recipientLimit),
  };
}

function recipientLimit(node: RecipientLimitCstNode): RecipientLimitClause {
  const c = node.children;
  if (c.UNSET) return { kind: c.ALLOWED ? "unsetAllowedAddresses" : "unsetRateLimit", span: nodeSpan(node) };
  if (c.ALLOWED)
    return { kind: "setAllowedAddresses", ranges: (c.stringValue ?? []).map((v) => stringValue([v])) };
  return { kind: "setRateLimit", requests: integerValue(c.integerValue), unit: name(c.rateUnit) };
}

function buildAlteration(node: AlterationCstNode): Alteration {
  const c = node.children;
  if (c.REMOVE) return { kind: "remove", alias: name(c.exportName) };
  if (c.SET) return shareDetail(one(c.shareDetail));
  const kind = c.EXPERIMENT ? "experiment" : c.PROMPT ? "prompt" : "model";
  const alias = c.exportName ? name(c.exportName) : null;
  const without = c.assetName ? name(c.assetName) : null;
  return {
    kind: "add",
    object: shareObject(kind, objectNameOf(c), alias, nodeSpan(node), false, without),
  };
}

function shareDetail(node: ShareDetailCstNode): Alteration {
  const c = node.children;
  if (c.DISPLAYNAME) return { kind: "setDisplayName", value: stringValue(c.stringValue) };
  if (c.COMMENT) return { kind: "setComment", value: stringValue(c.stringValue) };
  return {
    kind: "setProperties",
    properties: (c.shareProperty ?? []).map((p) => {
      const values = p.children.stringValue ?? [];
      return {
        key: stringValue(values.slice(0, 1)),
        value: p.children.NULL ? null : stringValue(values.slice(1, 2)),
      };
    }),
  };
}

function refreshShare(node: RefreshShareCstNode): Body {
  const c = node.children;
  return { kind: "refreshShare", share: name(c.shareName), alias: c.exportName ? name(c.exportName) : null };
}

function dropStatement(node: DropStatementCstNode): Body {
  const c = node.children;
  const ifExists = c.IF !== undefined;
  if (c.SHARE) return { kind: "dropShare", share: name(c.shareName), ifExists };
  return { kind: "dropRecipient", recipient: name(c.recipientName), ifExists };
}

function grantOrRevoke(
  kind: "grant" | "revoke",
  c: { shareName: NamedNode[]; recipientName: NamedNode[] },
): Body {
  return { kind, share: name(c.shareName), recipient: name(c.recipientName) };
}

function showStatement(node: ShowStatementCstNode): Body {
  const c = node.children;
  if (c.TRACE) {
    const [traceId, coordinate] = c.stringValue ?? [];
    return {
      kind: "showTrace",
      traceId: stringValue(traceId ? [traceId] : undefined),
      from: c.EXPERIMENT
        ? { kind: "experiment", name: name(c.experimentName) }
        : { kind: "share", coordinate: stringValue(coordinate ? [coordinate] : undefined) },
    };
  }
  if (c.SHARES)
    return c.stringValue
      ? { kind: "showRemoteShares", profile: stringValue(c.stringValue) }
      : { kind: "showShares" };
  if (c.RECIPIENTS) return { kind: "showRecipients" };
  if (c.ACCESS) {
    return {
      kind: "showAccess",
      share: c.shareName ? name(c.shareName) : null,
      recipient: c.recipientName ? name(c.recipientName) : null,
      since: c.stringValue ? stringValue(c.stringValue) : null,
    };
  }
  if (c.GRANTS) {
    return {
      kind: "showGrants",
      share: c.shareName ? name(c.shareName) : null,
      recipient: c.recipientName ? name(c.recipientName) : null,
    };
  }
  if (c.shareName) return { kind: "showTables", share: name(c.shareName) };
  if (c.MODELS) return { kind: "showRemoteModels", coordinate: stringValue(c.stringValue) };
  return { kind: "showRemoteTables", coordinate: stringValue(c.stringValue) };
}

function describeStatement(node: DescribeStatementCstNode): Body {
  const c = node.children;
  if (c.shareName) return { kind: "describeShare", share: name(c.shareName) };
  if (c.recipientName) return { kind: "describeRecipient", recipient: name(c.recipientName) };
  const ref = one(c.tableRef).children;
  return {
    kind: "describeHistory",
    share: name(ref.shareName),
    alias: name(ref.exportName),
    table: name(ref.tableName),
  };
}

function selectStatement(node: SelectStatementCstNode): Body {
  const c = node.children;
  return {
    kind: "select",
    columns: c.Star ? null : (c.columnName ?? []).map((column) => columnName(column.children)),
    from: stringValue(c.stringValue),
    version: c.VERSION ? integerValue(c.integerValue?.slice(0, 1)) : null,
    where: c.condition ? condition(one(c.condition)) : null,
    limit: c.LIMIT ? integerValue(c.integerValue?.slice(-1)) : null,
  };
}

function condition(node: ConditionCstNode): Condition {
  return node.children.conjunction.map(conjunction).reduce((left, right) => binary("or", left, right));
}

function conjunction(node: ConjunctionCstNode): Condition {
  return node.children.negation.map(negation).reduce((left, right) => binary("and", left, right));
}

function negation(node: NegationCstNode): Condition {
  const c = node.children;
  if (c.negation) return { kind: "not", operand: negation(one(c.negation)) };
  return predicate(one(c.predicate));
}

function predicate(node: PredicateCstNode): Condition {
  const c = node.children;
  if (c.condition) return condition(one(c.condition));
  const column = columnName(one(c.columnName).children);
  const tail = one(c.predicateTail).children;
  if (tail.compareOperator) {
    return {
      kind: "compare",
      column,
      operator: compareOperator(one(tail.compareOperator)),
      value: literalValue(one(tail.literal)),
    };
  }
  if (tail.IS) return { kind: "isNull", column, negated: tail.NOT !== undefined };
  const negated = tail.NOT !== undefined;
  if (tail.IN) return { kind: "in", column, values: (tail.literal ?? []).map(literalValue), negated };
  return { kind: "like", column, pattern: stringValue(tail.stringValue), negated };
}

function compareOperator(node: CompareOperatorCstNode): CompareOperator {
  const c = node.children;
  if (c.Equals) return "=";
  if (c.NotEquals) return "!=";
  if (c.LessOrEqual) return "<=";
  if (c.GreaterOrEqual) return ">=";
  if (c.Less) return "<";
  return ">";
}

function literalValue(node: LiteralCstNode): Value {
  const c = node.children;
  if (c.StringLiteral) return stringValue([node]);
  if (c.Parameter) return parameter(one(c.Parameter));
  if (c.NumberLiteral) return integerValue([node]);
  const token = one(c.TRUE ?? c.FALSE ?? c.NULL);
  return literal(c.TRUE ? true : c.FALSE ? false : null, tokenSpan(token));
}

function plotStatement(node: PlotStatementCstNode): Body {
  const c = node.children;
  return {
    kind: "plotMetric",
    metric: name(c.metricName),
    from: c.EXPERIMENT
      ? { kind: "experiment", name: name(c.experimentName) }
      : { kind: "share", coordinate: stringValue(c.stringValue) },
    axis: c.axisName ? name(c.axisName) : null,
  };
}

function useStatement(node: UseStatementCstNode): Body {
  const c = node.children;
  if (c.MLFLOW) return { kind: "useMlflow", uri: stringValue(c.stringValue) };
  return { kind: "useProfile", path: stringValue(c.stringValue) };
}

function helpStatement(node: StatementCstNode): Body {
  const help = one(node.children.helpStatement).children;
  const words = [...(help.Keyword ?? []), ...(help.Identifier ?? [])]
    .sort((a, b) => a.startOffset - b.startOffset)
    .map((token) => token.image.toUpperCase());
  return { kind: "help", topic: words.length > 0 ? words.join(" ") : null };
}

// Leaves: names, strings, numbers and parameters.

type NamedNode = { children: { name: NameCstNode[] } };
type ValueNode = { children: { StringLiteral?: IToken[]; NumberLiteral?: IToken[]; Parameter?: IToken[] } };

function name(nodes: NamedNode[] | undefined): Value {
  const c = one(one(nodes).children.name).children;
  if (c.Identifier) {
    const token = one(c.Identifier);
    return literal(token.image, tokenSpan(token));
  }
  if (c.QuotedIdentifier) {
    const token = one(c.QuotedIdentifier);
    return literal(unquoteBackquoted(token.image), tokenSpan(token));
  }
  return stringValue([{ children: c }]);
}

function columnName(c: { Identifier?: IToken[]; QuotedIdentifier?: IToken[] }): string {
  if (c.Identifier) return one(c.Identifier).image;
  return unquoteBackquoted(one(c.QuotedIdentifier).image);
}

function stringValue(nodes: ValueNode[] | undefined): Value {
  const c = one(nodes).children;
  if (c.Parameter) return parameter(one(c.Parameter));
  const token = one(c.StringLiteral);
  return literal(unquoteString(token.image), tokenSpan(token));
}

function integerValue(nodes: ValueNode[] | undefined): Value {
  const c = one(nodes).children;
  if (c.Parameter) return parameter(one(c.Parameter));
  const token = one(c.NumberLiteral);
  return literal(Number(token.image), tokenSpan(token));
}

function parameter(token: IToken): Value {
  return parameterRef(token.image.slice(1), tokenSpan(token));
}

const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", "'": "'", '"': '"' };

/**
 * The value of a quoted string: a doubled quote is one quote, and \n \t \r \\ \' \" are escapes.
 * Any other backslash is kept as written, so a Windows path like 'C:\Users\me' survives.
 */
export function unquoteString(image: string): string {
  const quote = image[0] ?? "'";
  const body = image.slice(1, -1);
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const char = body[i] as string;
    const next = body[i + 1];
    if (char === "\\" && next !== undefined && next in ESCAPES) {
      out += ESCAPES[next];
      i++;
    } else if (char === quote && next === quote) {
      out += quote;
      i++;
    } else {
      out += char;
    }
  }
  return out;
}

export function unquoteBackquoted(image: string): string {
  return image.slice(1, -1).replace(/``/g, "`");
}

export function tokenSpan(token: IToken): Span {
  return {
    start: token.startOffset,
    end: (token.endOffset ?? token.startOffset) + 1,
    line: token.startLine ?? 1,
    column: token.startColumn ?? 1,
  };
}

function nodeSpan(node: CstNode): Span {
  const at = node.location;
  if (!at || Number.isNaN(at.startOffset)) throw internal(`no location for ${node.name}`);
  return {
    start: at.startOffset,
    end: (at.endOffset ?? at.startOffset) + 1,
    line: at.startLine ?? 1,
    column: at.startColumn ?? 1,
  };
}

function one<T>(items: T[] | undefined): T {
  const item = items?.[0];
  if (item === undefined) throw internal("a child the grammar guarantees is missing");
  return item;
}

function internal(what: string): ArcuateError {
  return new ArcuateError("INTERNAL_ERROR", `language: ${what} (a bug in grammar/build-ast.ts)`);
}
