// The seam between the language and the modules that do the work. The executor calls one Runtime
// method per plan step, with the step's arguments exactly as the plan (and EXPLAIN) shows them.
// An implementation wires them to src/sharing (catalog, client), src/exchange and src/mlflow.

import type { NameRole } from "../../grammar/expected.js";
import { arcuateRuntime } from "./arcuate-runtime.js";
import type { ChartOutput } from "./chart.js";
import type {
  AddExperimentToShareArgs,
  AddModelToShareArgs,
  AddPromptToShareArgs,
  AlterRecipientArgs,
  AlterShareDetailsArgs,
  CreateRecipientArgs,
  CreateShareArgs,
  DescribeHistoryArgs,
  DescribeRecipientArgs,
  DescribeShareArgs,
  DropRecipientArgs,
  DropShareArgs,
  GrantArgs,
  ImportExperimentArgs,
  ImportModelArgs,
  ImportModelAssetArgs,
  ImportPromptArgs,
  PlotExperimentMetricArgs,
  PlotSharedMetricArgs,
  RefreshShareArgs,
  RemoveFromShareArgs,
  RuntimeStep,
  SelectFromShareArgs,
  ShowAccessArgs,
  ShowExperimentTraceArgs,
  ShowGrantsArgs,
  ShowRecipientsArgs,
  ShowRemoteSharesArgs,
  ShowRemoteTablesArgs,
  ShowSharedTraceArgs,
  ShowSharesArgs,
  ShowTablesArgs,
  TableCoordinate,
} from "./plan.js";
import type { TraceOutput } from "./span-tree.js";

/** Rows for SHOW, DESCRIBE and SELECT. `totalRows` is set when `rows` is a cut of a larger result. */
export interface TableOutput {
  columns: string[];
  rows: unknown[][];
  totalRows?: number;
  title?: string;
}

/** What a step that changes something reports: one or a few lines, e.g. "exported 12 runs". */
export type ActionOutput = string;

/** Given to every Runtime call: report progress, and stop early when `signal` aborts. */
export interface StepContext {
  progress(message: string, done?: number, total?: number): void;
  signal?: AbortSignal;
}

/** Where completion finds names; `context` carries the session's current defaults. */
export interface NameContext {
  workDir: string;
  mlflowUri: string | null;
  profile: string | null;
}

/**
 * The work behind each plan step. Contract for implementers: a method does its step or throws an
 * ArcuateError whose message names the object (share, experiment, server) and the problem; it
 * never prints (progress goes through `context`). Actions return a short summary; queries return
 * rows. `ifNotExists`/`ifExists` mean "succeed without change" rather than throw a conflict or not
 * found error.
 */
export interface Runtime {
  // Provider: the catalog of shares, recipients and grants (src/sharing/catalog) ...
  createShare(args: CreateShareArgs, context: StepContext): Promise<ActionOutput>;
  dropShare(args: DropShareArgs, context: StepContext): Promise<ActionOutput>;
  createRecipient(args: CreateRecipientArgs, context: StepContext): Promise<ActionOutput>;
  dropRecipient(args: DropRecipientArgs, context: StepContext): Promise<ActionOutput>;
  alterRecipient(args: AlterRecipientArgs, context: StepContext): Promise<ActionOutput>;
  grant(args: GrantArgs, context: StepContext): Promise<ActionOutput>;
  revoke(args: GrantArgs, context: StepContext): Promise<ActionOutput>;
  showShares(args: ShowSharesArgs, context: StepContext): Promise<TableOutput>;
  showRecipients(args: ShowRecipientsArgs, context: StepContext): Promise<TableOutput>;
  showGrants(args: ShowGrantsArgs, context: StepContext): Promise<TableOutput>;
  showAccess(args: ShowAccessArgs, context: StepContext): Promise<TableOutput>;
  showTables(args: ShowTablesArgs, context: StepContext): Promise<TableOutput>;
  describeShare(args: DescribeShareArgs, context: StepContext): Promise<TableOutput>;
  describeRecipient(args: DescribeRecipientArgs, context: StepContext): Promise<TableOutput>;
  describeHistory(args: DescribeHistoryArgs, context: StepContext): Promise<TableOutput>;
  // ... and exports from MLflow into it (src/exchange export + src/mlflow).
  addExperimentToShare(args: AddExperimentToShareArgs, context: StepContext): Promise<ActionOutput>;
  addModelToShare(args: AddModelToShareArgs, context: StepContext): Promise<ActionOutput>;
  addPromptToShare(args: AddPromptToShareArgs, context: StepContext): Promise<ActionOutput>;
  removeFromShare(args: RemoveFromShareArgs, context: StepContext): Promise<ActionOutput>;
  alterShareDetails(args: AlterShareDetailsArgs, context: StepContext): Promise<ActionOutput>;
  refreshShare(args: RefreshShareArgs, context: StepContext): Promise<ActionOutput>;
  // Recipient: a Delta Sharing client on a profile (src/sharing/client) and imports into MLflow.
  showRemoteShares(args: ShowRemoteSharesArgs, context: StepContext): Promise<TableOutput>;
  showRemoteTables(args: ShowRemoteTablesArgs, context: StepContext): Promise<TableOutput>;
  selectFromShare(args: SelectFromShareArgs, context: StepContext): Promise<TableOutput>;
  importExperiment(args: ImportExperimentArgs, context: StepContext): Promise<ActionOutput>;
  importModel(args: ImportModelArgs, context: StepContext): Promise<ActionOutput>;
  // OpenSharing model assets (ML_MODELS.md) of any OpenSharing server.
  showRemoteModels(args: ShowRemoteTablesArgs, context: StepContext): Promise<TableOutput>;
  importModelAsset(args: ImportModelAssetArgs, context: StepContext): Promise<ActionOutput>;
  importPrompt(args: ImportPromptArgs, context: StepContext): Promise<ActionOutput>;
  // Charts: a metric's history of every run, from a share (before import) or from MLflow.
  plotSharedMetric(args: PlotSharedMetricArgs, context: StepContext): Promise<ChartOutput>;
  plotExperimentMetric(args: PlotExperimentMetricArgs, context: StepContext): Promise<ChartOutput>;
  // Traces: a trace's spans, from a share (before import) or from MLflow, shown as a span tree.
  showSharedTrace(args: ShowSharedTraceArgs, context: StepContext): Promise<TraceOutput>;
  showExperimentTrace(args: ShowExperimentTraceArgs, context: StepContext): Promise<TraceOutput>;
  /**
   * Checks what a statement's steps need (sources exist, servers answer) before the first of them
   * runs, so a statement that cannot succeed changes nothing. Optional, called when it is an own
   * property of the runtime object; throws like a step.
   */
  validate?(steps: RuntimeStep[]): Promise<void>;
  /** Names that exist, for completion. Should answer fast; an empty list is always acceptable. */
  listNames(role: NameRole, context: NameContext): Promise<string[]>;
  /** The columns of a shared table (from its metadata), for completion. */
  listColumns(table: TableCoordinate): Promise<string[]>;
  /** Every table a profile can read, for completion of coordinates. */
  listSharedTables(profile: string): Promise<{ share: string; schema: string; name: string }[]>;
}

/** The step kinds the Runtime implements (each is the name of its method). */
export type RuntimeStepKind = RuntimeStep["step"];

/** The Runtime over arcuate's own modules, keeping the provider's state under the working folder. */
export function defaultRuntime(_workDir: string): Runtime {
  return arcuateRuntime();
}
