// The execution plan: what a statement will do, as JSON-serialisable data. Compiling fills in the
// defaults a statement leaves out (the MLflow server, the profile, the working folder), so a plan
// says exactly what will run; EXPLAIN prints it and the executor runs it step by step.
import type { CompareOperator } from "../../grammar/ast.js";

export type Scalar = string | number | boolean | null;

/** A row filter (SELECT … WHERE), as data. `and`/`or` chains are flattened into `children`. */
export type RowFilter =
  | { op: "and" | "or"; children: RowFilter[] }
  | { op: "not"; child: RowFilter }
  | { op: "compare"; operator: CompareOperator; column: string; value: Scalar }
  | { op: "isNull"; column: string }
  | { op: "in"; column: string; values: Scalar[] }
  | { op: "like"; column: string; pattern: string };

/** `profile#share.schema`: an exported experiment or model in a share, seen by a recipient. */
export interface SchemaCoordinate {
  /** Path of the Delta Sharing profile file, as written (relative paths are the runtime's to resolve). */
  profile: string;
  share: string;
  schema: string;
}

/** `profile#share.schema.table`: one shared table. */
export interface TableCoordinate extends SchemaCoordinate {
  table: string;
}

// Arguments of each step. Provider steps carry the working folder (where the catalog and the
// exported tables live); steps that read or write MLflow carry the tracking server's URI.

interface Provider {
  workDir: string;
}

export interface CreateShareArgs extends Provider {
  share: string;
  comment: string | null;
  ifNotExists: boolean;
}
export interface DropShareArgs extends Provider {
  share: string;
  ifExists: boolean;
}
export interface AddExperimentToShareArgs extends Provider {
  share: string;
  experiment: string;
  /** The schema of the share the experiment's tables go in (`AS x`, or derived from the name). */
  schema: string;
  /** null only in a plan EXPLAIN prints: no MLflow server is set yet (running it is refused). */
  mlflowUri: string | null;
  /** Export its traces (spans, assessments)? False for `WITHOUT traces`. */
  traces: boolean;
}
export interface AddPromptToShareArgs extends Provider {
  share: string;
  prompt: string;
  schema: string;
  mlflowUri: string | null;
}
export interface AddModelToShareArgs extends Provider {
  share: string;
  model: string;
  schema: string;
  /** null only in a plan EXPLAIN prints: no MLflow server is set yet (running it is refused). */
  mlflowUri: string | null;
}
/** SET DISPLAYNAME / COMMENT / PROPERTIES: a string sets, null clears (a property: removes). */
export interface AlterShareDetailsArgs extends Provider {
  share: string;
  displayName?: string | null;
  comment?: string | null;
  properties?: Record<string, string | null>;
}
export interface RemoveFromShareArgs extends Provider {
  share: string;
  schema: string;
}
export interface RefreshShareArgs extends Provider {
  share: string;
  /** One export to refresh, or null for all of the share's. */
  schema: string | null;
  /** null only in a plan EXPLAIN prints: no MLflow server is set yet (running it is refused). */
  mlflowUri: string | null;
}
export interface CreateRecipientArgs extends Provider {
  recipient: string;
  comment: string | null;
  ifNotExists: boolean;
  /** OAuth 2.0 client credentials (a version 2 `oauth_client_credentials` profile), not a bearer token. */
  oauth: boolean;
  /** WITH ACTIVATION LINK: a one-time link to the profile instead of the profile. */
  activationLink?: true;
}
/** ALTER RECIPIENT: a value sets the limit, `null` lifts it, absent leaves it. */
export interface AlterRecipientArgs extends Provider {
  recipient: string;
  allowedAddresses?: string[] | null;
  rateLimit?: { requests: number; perSeconds: number } | null;
}
export interface DropRecipientArgs extends Provider {
  recipient: string;
  ifExists: boolean;
}
export interface GrantArgs extends Provider {
  share: string;
  recipient: string;
}
export type ShowSharesArgs = Provider;
export type ShowRecipientsArgs = Provider;
export interface ShowGrantsArgs extends Provider {
  /** Exactly one of share and recipient is set. */
  share: string | null;
  recipient: string | null;
}
export interface ShowAccessArgs extends Provider {
  share: string | null;
  recipient: string | null;
  /** As written: an ISO 8601 time or a duration back from the time it runs (`24h`). */
  since: string | null;
}
export interface ShowTablesArgs extends Provider {
  share: string;
}
export interface DescribeShareArgs extends Provider {
  share: string;
}
export interface DescribeRecipientArgs extends Provider {
  recipient: string;
}
export interface DescribeHistoryArgs extends Provider {
  share: string;
  schema: string;
  table: string;
}
export interface ShowRemoteSharesArgs {
  profile: string;
}
export interface ShowRemoteTablesArgs {
  profile: string;
  share: string;
  /** Only the tables of this schema, or null for the whole share. */
  schema: string | null;
}
export interface ImportExperimentArgs {
  /** The experiment to create (or replace) in the recipient's MLflow. */
  experiment: string;
  replace: boolean;
  source: SchemaCoordinate;
  /** The share's table version to import, or null for the latest. */
  version: number | null;
  /** null only in a plan EXPLAIN prints: no MLflow server is set yet (running it is refused). */
  mlflowUri: string | null;
}
/** An OpenSharing model asset: `profile#share.schema.model`. */
export interface ModelCoordinate {
  profile: string;
  share: string;
  schema: string;
  model: string;
}
export interface ImportModelAssetArgs {
  model: string;
  replace: boolean;
  source: ModelCoordinate;
  /** Only this model version, or null for every READY version. */
  version: number | null;
  /** null only in a plan EXPLAIN prints: no MLflow server is set yet (running it is refused). */
  mlflowUri: string | null;
}
export interface ImportPromptArgs {
  prompt: string;
  replace: boolean;
  source: SchemaCoordinate;
  mlflowUri: string | null;
}
export interface ImportModelArgs {
  model: string;
  replace: boolean;
  source: SchemaCoordinate;
  version: number | null;
  /** null only in a plan EXPLAIN prints: no MLflow server is set yet (running it is refused). */
  mlflowUri: string | null;
}
/**
 * For the implementer: filter the rows with matchesFilter(where, row) (filter.ts) and offer
 * toJsonPredicate(where) as the server's predicate hint; send `limit` as limitHint only without a
 * WHERE, since a server may cut rows before it filters them (or not filter at all).
 */
export interface SelectFromShareArgs {
  source: TableCoordinate;
  /** The columns to show, or null for all (`*`). */
  columns: string[] | null;
  /** The table version to read (VERSION AS OF n), or null for the latest. */
  version: number | null;
  where: RowFilter | null;
  /** At most this many rows; a preview without LIMIT gets DEFAULT_PREVIEW_ROWS. */
  limit: number;
}

/** The x axis of a metric chart: the metric's step, or its timestamp. */
export type ChartAxis = "step" | "time";

/** PLOT METRIC … FROM 'share.schema': a metric's history from a shared experiment, before import. */
export interface PlotSharedMetricArgs {
  source: SchemaCoordinate;
  metric: string;
  x: ChartAxis;
}
/** PLOT METRIC … FROM EXPERIMENT 'name': a metric's history from an experiment in MLflow. */
export interface PlotExperimentMetricArgs {
  experiment: string;
  metric: string;
  x: ChartAxis;
  /** null only in a plan EXPLAIN prints: no MLflow server is set yet (running it is refused). */
  mlflowUri: string | null;
}

/** SHOW TRACE 'id' FROM 'share.schema': a trace's spans from a shared experiment's `spans` table. */
export interface ShowSharedTraceArgs {
  traceId: string;
  source: SchemaCoordinate;
}
/** SHOW TRACE 'id' FROM EXPERIMENT 'name': a trace of an experiment in MLflow. */
export interface ShowExperimentTraceArgs {
  traceId: string;
  experiment: string;
  /** null only in a plan EXPLAIN prints: no MLflow server is set yet (running it is refused). */
  mlflowUri: string | null;
}

/** Steps the Runtime performs (one Runtime method each, same name). */
export type RuntimeStep =
  | { step: "createShare"; args: CreateShareArgs }
  | { step: "dropShare"; args: DropShareArgs }
  | { step: "addExperimentToShare"; args: AddExperimentToShareArgs }
  | { step: "addModelToShare"; args: AddModelToShareArgs }
  | { step: "addPromptToShare"; args: AddPromptToShareArgs }
  | { step: "removeFromShare"; args: RemoveFromShareArgs }
  | { step: "alterShareDetails"; args: AlterShareDetailsArgs }
  | { step: "refreshShare"; args: RefreshShareArgs }
  | { step: "createRecipient"; args: CreateRecipientArgs }
  | { step: "dropRecipient"; args: DropRecipientArgs }
  | { step: "alterRecipient"; args: AlterRecipientArgs }
  | { step: "grant"; args: GrantArgs }
  | { step: "revoke"; args: GrantArgs }
  | { step: "showShares"; args: ShowSharesArgs }
  | { step: "showRecipients"; args: ShowRecipientsArgs }
  | { step: "showGrants"; args: ShowGrantsArgs }
  | { step: "showAccess"; args: ShowAccessArgs }
  | { step: "showTables"; args: ShowTablesArgs }
  | { step: "describeShare"; args: DescribeShareArgs }
  | { step: "describeRecipient"; args: DescribeRecipientArgs }
  | { step: "describeHistory"; args: DescribeHistoryArgs }
  | { step: "showRemoteShares"; args: ShowRemoteSharesArgs }
  | { step: "showRemoteTables"; args: ShowRemoteTablesArgs }
  | { step: "importExperiment"; args: ImportExperimentArgs }
  | { step: "importModel"; args: ImportModelArgs }
  | { step: "showRemoteModels"; args: ShowRemoteTablesArgs }
  | { step: "importModelAsset"; args: ImportModelAssetArgs }
  | { step: "importPrompt"; args: ImportPromptArgs }
  | { step: "selectFromShare"; args: SelectFromShareArgs }
  | { step: "plotSharedMetric"; args: PlotSharedMetricArgs }
  | { step: "plotExperimentMetric"; args: PlotExperimentMetricArgs }
  | { step: "showSharedTrace"; args: ShowSharedTraceArgs }
  | { step: "showExperimentTrace"; args: ShowExperimentTraceArgs };

/** Steps the session performs itself: they only change or describe the session. */
export type SessionStep =
  | { step: "useMlflow"; args: { uri: string } }
  | { step: "useProfile"; args: { path: string } }
  | { step: "explain"; args: { plan: Plan } }
  | { step: "help"; args: { topic: string | null } };

export type PlanStep = RuntimeStep | SessionStep;
export type StepKind = PlanStep["step"];

export interface Plan {
  /** The statement's text, as written. */
  statement: string;
  steps: PlanStep[];
}

/** Rows a SELECT without LIMIT shows: it is a preview, not an export. */
export const DEFAULT_PREVIEW_ROWS = 1000;
