// Generated from grammar/parser.ts by scripts/gen-cst-types.ts; do not edit.
// The Concrete Syntax Tree node types of the %arcuate grammar.
import type { CstNode, IToken } from "chevrotain";

export interface ScriptCstNode extends CstNode {
  name: "script";
  children: ScriptCstChildren;
}

export type ScriptCstChildren = {
  statement?: StatementCstNode[];
  Semicolon?: IToken[];
};

export interface StatementCstNode extends CstNode {
  name: "statement";
  children: StatementCstChildren;
}

export type StatementCstChildren = {
  createStatement?: CreateStatementCstNode[];
  alterShare?: AlterShareCstNode[];
  alterRecipient?: AlterRecipientCstNode[];
  refreshShare?: RefreshShareCstNode[];
  dropStatement?: DropStatementCstNode[];
  grantStatement?: GrantStatementCstNode[];
  revokeStatement?: RevokeStatementCstNode[];
  showStatement?: ShowStatementCstNode[];
  describeStatement?: DescribeStatementCstNode[];
  selectStatement?: SelectStatementCstNode[];
  plotStatement?: PlotStatementCstNode[];
  useStatement?: UseStatementCstNode[];
  explainStatement?: ExplainStatementCstNode[];
  helpStatement?: HelpStatementCstNode[];
};

export interface CreateStatementCstNode extends CstNode {
  name: "createStatement";
  children: CreateStatementCstChildren;
}

export type CreateStatementCstChildren = {
  CREATE: IToken[];
  createShare?: CreateShareCstNode[];
  createRecipient?: CreateRecipientCstNode[];
  createImport?: CreateImportCstNode[];
};

export interface CreateShareCstNode extends CstNode {
  name: "createShare";
  children: CreateShareCstChildren;
}

export type CreateShareCstChildren = {
  SHARE: IToken[];
  IF?: IToken[];
  NOT?: IToken[];
  EXISTS?: IToken[];
  shareName: ShareNameCstNode[];
  COMMENT?: IToken[];
  stringValue?: StringValueCstNode[];
  WITH?: IToken[];
  shareObject?: ShareObjectCstNode[];
  Comma?: IToken[];
};

export interface ShareObjectCstNode extends CstNode {
  name: "shareObject";
  children: ShareObjectCstChildren;
}

export type ShareObjectCstChildren = {
  EXPERIMENT?: IToken[];
  experimentName?: ExperimentNameCstNode[];
  AS?: IToken[];
  exportName?: ExportNameCstNode[];
  WITHOUT?: IToken[];
  assetName?: AssetNameCstNode[];
  MODEL?: IToken[];
  modelName?: ModelNameCstNode[];
  PROMPT?: IToken[];
  promptName?: PromptNameCstNode[];
  TABLE?: IToken[];
  FROM?: IToken[];
};

export interface CreateRecipientCstNode extends CstNode {
  name: "createRecipient";
  children: CreateRecipientCstChildren;
}

export type CreateRecipientCstChildren = {
  RECIPIENT: IToken[];
  IF?: IToken[];
  NOT?: IToken[];
  EXISTS?: IToken[];
  recipientName: RecipientNameCstNode[];
  USING?: IToken[];
  OAUTH?: IToken[];
  COMMENT?: IToken[];
  stringValue?: StringValueCstNode[];
  WITH?: IToken[];
  ACTIVATION?: IToken[];
  LINK?: IToken[];
};

export interface CreateImportCstNode extends CstNode {
  name: "createImport";
  children: CreateImportCstChildren;
}

export type CreateImportCstChildren = {
  OR?: IToken[];
  REPLACE?: IToken[];
  EXPERIMENT?: IToken[];
  experimentName?: ExperimentNameCstNode[];
  MODEL?: IToken[];
  modelName?: ModelNameCstNode[];
  PROMPT?: IToken[];
  promptName?: PromptNameCstNode[];
  USING: IToken[];
  SHARE: IToken[];
  stringValue: StringValueCstNode[];
  VERSION?: IToken[];
  AS?: IToken[];
  OF?: IToken[];
  integerValue?: IntegerValueCstNode[];
};

export interface AlterShareCstNode extends CstNode {
  name: "alterShare";
  children: AlterShareCstChildren;
}

export type AlterShareCstChildren = {
  ALTER: IToken[];
  SHARE: IToken[];
  shareName: ShareNameCstNode[];
  alteration: AlterationCstNode[];
  Comma?: IToken[];
};

export interface AlterRecipientCstNode extends CstNode {
  name: "alterRecipient";
  children: AlterRecipientCstChildren;
}

export type AlterRecipientCstChildren = {
  ALTER: IToken[];
  RECIPIENT: IToken[];
  recipientName: RecipientNameCstNode[];
  recipientLimit: RecipientLimitCstNode[];
  Comma?: IToken[];
};

export interface RecipientLimitCstNode extends CstNode {
  name: "recipientLimit";
  children: RecipientLimitCstChildren;
}

export type RecipientLimitCstChildren = {
  SET?: IToken[];
  ALLOWED?: IToken[];
  ADDRESSES?: IToken[];
  LParen?: IToken[];
  stringValue?: StringValueCstNode[];
  Comma?: IToken[];
  RParen?: IToken[];
  RATE?: IToken[];
  LIMIT?: IToken[];
  integerValue?: IntegerValueCstNode[];
  PER?: IToken[];
  rateUnit?: RateUnitCstNode[];
  UNSET?: IToken[];
};

export interface AlterationCstNode extends CstNode {
  name: "alteration";
  children: AlterationCstChildren;
}

export type AlterationCstChildren = {
  ADD?: IToken[];
  EXPERIMENT?: IToken[];
  experimentName?: ExperimentNameCstNode[];
  MODEL?: IToken[];
  modelName?: ModelNameCstNode[];
  PROMPT?: IToken[];
  promptName?: PromptNameCstNode[];
  AS?: IToken[];
  exportName?: ExportNameCstNode[];
  WITHOUT?: IToken[];
  assetName?: AssetNameCstNode[];
  REMOVE?: IToken[];
  SET?: IToken[];
  shareDetail?: ShareDetailCstNode[];
};

export interface ShareDetailCstNode extends CstNode {
  name: "shareDetail";
  children: ShareDetailCstChildren;
}

export type ShareDetailCstChildren = {
  DISPLAYNAME?: IToken[];
  stringValue?: StringValueCstNode[];
  COMMENT?: IToken[];
  PROPERTIES?: IToken[];
  LParen?: IToken[];
  shareProperty?: SharePropertyCstNode[];
  Comma?: IToken[];
  RParen?: IToken[];
};

export interface SharePropertyCstNode extends CstNode {
  name: "shareProperty";
  children: SharePropertyCstChildren;
}

export type SharePropertyCstChildren = {
  stringValue: StringValueCstNode[];
  Equals: IToken[];
  NULL?: IToken[];
};

export interface RefreshShareCstNode extends CstNode {
  name: "refreshShare";
  children: RefreshShareCstChildren;
}

export type RefreshShareCstChildren = {
  REFRESH: IToken[];
  SHARE: IToken[];
  shareName: ShareNameCstNode[];
  exportName?: ExportNameCstNode[];
};

export interface DropStatementCstNode extends CstNode {
  name: "dropStatement";
  children: DropStatementCstChildren;
}

export type DropStatementCstChildren = {
  DROP: IToken[];
  SHARE?: IToken[];
  IF?: IToken[];
  EXISTS?: IToken[];
  shareName?: ShareNameCstNode[];
  RECIPIENT?: IToken[];
  recipientName?: RecipientNameCstNode[];
};

export interface GrantStatementCstNode extends CstNode {
  name: "grantStatement";
  children: GrantStatementCstChildren;
}

export type GrantStatementCstChildren = {
  GRANT: IToken[];
  SELECT: IToken[];
  ON: IToken[];
  SHARE: IToken[];
  shareName: ShareNameCstNode[];
  TO: IToken[];
  RECIPIENT: IToken[];
  recipientName: RecipientNameCstNode[];
};

export interface RevokeStatementCstNode extends CstNode {
  name: "revokeStatement";
  children: RevokeStatementCstChildren;
}

export type RevokeStatementCstChildren = {
  REVOKE: IToken[];
  SELECT: IToken[];
  ON: IToken[];
  SHARE: IToken[];
  shareName: ShareNameCstNode[];
  FROM: IToken[];
  RECIPIENT: IToken[];
  recipientName: RecipientNameCstNode[];
};

export interface ShowStatementCstNode extends CstNode {
  name: "showStatement";
  children: ShowStatementCstChildren;
}

export type ShowStatementCstChildren = {
  SHOW: IToken[];
  SHARES?: IToken[];
  IN?: IToken[];
  stringValue?: StringValueCstNode[];
  RECIPIENTS?: IToken[];
  GRANTS?: IToken[];
  ON?: IToken[];
  SHARE?: IToken[];
  shareName?: ShareNameCstNode[];
  TO?: IToken[];
  RECIPIENT?: IToken[];
  recipientName?: RecipientNameCstNode[];
  TABLES?: IToken[];
  TRACE?: IToken[];
  FROM?: IToken[];
  EXPERIMENT?: IToken[];
  experimentName?: ExperimentNameCstNode[];
  MODELS?: IToken[];
  ACCESS?: IToken[];
  FOR?: IToken[];
  SINCE?: IToken[];
};

export interface DescribeStatementCstNode extends CstNode {
  name: "describeStatement";
  children: DescribeStatementCstChildren;
}

export type DescribeStatementCstChildren = {
  DESCRIBE: IToken[];
  SHARE?: IToken[];
  shareName?: ShareNameCstNode[];
  RECIPIENT?: IToken[];
  recipientName?: RecipientNameCstNode[];
  HISTORY?: IToken[];
  tableRef?: TableRefCstNode[];
};

export interface TableRefCstNode extends CstNode {
  name: "tableRef";
  children: TableRefCstChildren;
}

export type TableRefCstChildren = {
  shareName: ShareNameCstNode[];
  Dot: IToken[];
  exportName: ExportNameCstNode[];
  tableName: TableNameCstNode[];
};

export interface SelectStatementCstNode extends CstNode {
  name: "selectStatement";
  children: SelectStatementCstChildren;
}

export type SelectStatementCstChildren = {
  SELECT: IToken[];
  Star?: IToken[];
  columnName?: ColumnNameCstNode[];
  Comma?: IToken[];
  FROM: IToken[];
  stringValue: StringValueCstNode[];
  VERSION?: IToken[];
  AS?: IToken[];
  OF?: IToken[];
  integerValue?: IntegerValueCstNode[];
  WHERE?: IToken[];
  condition?: ConditionCstNode[];
  LIMIT?: IToken[];
};

export interface PlotStatementCstNode extends CstNode {
  name: "plotStatement";
  children: PlotStatementCstChildren;
}

export type PlotStatementCstChildren = {
  PLOT: IToken[];
  METRIC: IToken[];
  metricName: MetricNameCstNode[];
  FROM: IToken[];
  EXPERIMENT?: IToken[];
  experimentName?: ExperimentNameCstNode[];
  stringValue?: StringValueCstNode[];
  BY?: IToken[];
  axisName?: AxisNameCstNode[];
};

export interface ConditionCstNode extends CstNode {
  name: "condition";
  children: ConditionCstChildren;
}

export type ConditionCstChildren = {
  conjunction: ConjunctionCstNode[];
  OR?: IToken[];
};

export interface ConjunctionCstNode extends CstNode {
  name: "conjunction";
  children: ConjunctionCstChildren;
}

export type ConjunctionCstChildren = {
  negation: NegationCstNode[];
  AND?: IToken[];
};

export interface NegationCstNode extends CstNode {
  name: "negation";
  children: NegationCstChildren;
}

export type NegationCstChildren = {
  NOT?: IToken[];
  negation?: NegationCstNode[];
  predicate?: PredicateCstNode[];
};

export interface PredicateCstNode extends CstNode {
  name: "predicate";
  children: PredicateCstChildren;
}

export type PredicateCstChildren = {
  LParen?: IToken[];
  condition?: ConditionCstNode[];
  RParen?: IToken[];
  columnName?: ColumnNameCstNode[];
  predicateTail?: PredicateTailCstNode[];
};

export interface PredicateTailCstNode extends CstNode {
  name: "predicateTail";
  children: PredicateTailCstChildren;
}

export type PredicateTailCstChildren = {
  compareOperator?: CompareOperatorCstNode[];
  literal?: LiteralCstNode[];
  IS?: IToken[];
  NOT?: IToken[];
  NULL?: IToken[];
  IN?: IToken[];
  LParen?: IToken[];
  Comma?: IToken[];
  RParen?: IToken[];
  LIKE?: IToken[];
  stringValue?: StringValueCstNode[];
};

export interface CompareOperatorCstNode extends CstNode {
  name: "compareOperator";
  children: CompareOperatorCstChildren;
}

export type CompareOperatorCstChildren = {
  Equals?: IToken[];
  NotEquals?: IToken[];
  LessOrEqual?: IToken[];
  GreaterOrEqual?: IToken[];
  Less?: IToken[];
  Greater?: IToken[];
};

export interface LiteralCstNode extends CstNode {
  name: "literal";
  children: LiteralCstChildren;
}

export type LiteralCstChildren = {
  StringLiteral?: IToken[];
  NumberLiteral?: IToken[];
  TRUE?: IToken[];
  FALSE?: IToken[];
  NULL?: IToken[];
  Parameter?: IToken[];
};

export interface UseStatementCstNode extends CstNode {
  name: "useStatement";
  children: UseStatementCstChildren;
}

export type UseStatementCstChildren = {
  USE: IToken[];
  MLFLOW?: IToken[];
  stringValue?: StringValueCstNode[];
  PROFILE?: IToken[];
};

export interface ExplainStatementCstNode extends CstNode {
  name: "explainStatement";
  children: ExplainStatementCstChildren;
}

export type ExplainStatementCstChildren = {
  EXPLAIN: IToken[];
  statement: StatementCstNode[];
};

export interface HelpStatementCstNode extends CstNode {
  name: "helpStatement";
  children: HelpStatementCstChildren;
}

export type HelpStatementCstChildren = {
  HELP: IToken[];
  Keyword?: IToken[];
  Identifier?: IToken[];
};

export interface ShareNameCstNode extends CstNode {
  name: "shareName";
  children: ShareNameCstChildren;
}

export type ShareNameCstChildren = {
  name: NameCstNode[];
};

export interface RecipientNameCstNode extends CstNode {
  name: "recipientName";
  children: RecipientNameCstChildren;
}

export type RecipientNameCstChildren = {
  name: NameCstNode[];
};

export interface ExperimentNameCstNode extends CstNode {
  name: "experimentName";
  children: ExperimentNameCstChildren;
}

export type ExperimentNameCstChildren = {
  name: NameCstNode[];
};

export interface ModelNameCstNode extends CstNode {
  name: "modelName";
  children: ModelNameCstChildren;
}

export type ModelNameCstChildren = {
  name: NameCstNode[];
};

export interface PromptNameCstNode extends CstNode {
  name: "promptName";
  children: PromptNameCstChildren;
}

export type PromptNameCstChildren = {
  name: NameCstNode[];
};

export interface AssetNameCstNode extends CstNode {
  name: "assetName";
  children: AssetNameCstChildren;
}

export type AssetNameCstChildren = {
  name: NameCstNode[];
};

export interface ExportNameCstNode extends CstNode {
  name: "exportName";
  children: ExportNameCstChildren;
}

export type ExportNameCstChildren = {
  name: NameCstNode[];
};

export interface TableNameCstNode extends CstNode {
  name: "tableName";
  children: TableNameCstChildren;
}

export type TableNameCstChildren = {
  name: NameCstNode[];
};

export interface MetricNameCstNode extends CstNode {
  name: "metricName";
  children: MetricNameCstChildren;
}

export type MetricNameCstChildren = {
  name: NameCstNode[];
};

export interface AxisNameCstNode extends CstNode {
  name: "axisName";
  children: AxisNameCstChildren;
}

export type AxisNameCstChildren = {
  name: NameCstNode[];
};

export interface RateUnitCstNode extends CstNode {
  name: "rateUnit";
  children: RateUnitCstChildren;
}

export type RateUnitCstChildren = {
  name: NameCstNode[];
};

export interface NameCstNode extends CstNode {
  name: "name";
  children: NameCstChildren;
}

export type NameCstChildren = {
  Identifier?: IToken[];
  QuotedIdentifier?: IToken[];
  StringLiteral?: IToken[];
  Parameter?: IToken[];
};

export interface ColumnNameCstNode extends CstNode {
  name: "columnName";
  children: ColumnNameCstChildren;
}

export type ColumnNameCstChildren = {
  Identifier?: IToken[];
  QuotedIdentifier?: IToken[];
};

export interface StringValueCstNode extends CstNode {
  name: "stringValue";
  children: StringValueCstChildren;
}

export type StringValueCstChildren = {
  StringLiteral?: IToken[];
  Parameter?: IToken[];
};

export interface IntegerValueCstNode extends CstNode {
  name: "integerValue";
  children: IntegerValueCstChildren;
}

export type IntegerValueCstChildren = {
  NumberLiteral?: IToken[];
  Parameter?: IToken[];
};
