// The %arcuate language: the public surface the kernel and the CLI use. Named exports only.

export type { NameRole } from "../../grammar/expected.js";
export type { ChartOutput, ChartPoint, ChartResult, ChartSeries, VegaLiteSpec } from "./chart.js";
export type { Completion, NameSource } from "./complete.js";
export type { ProgressEvent, StatementResult } from "./executor.js";
export { formatPlan } from "./explain.js";
export { matchesFilter, toJsonPredicate } from "./filter.js";
export { cellText, formatResult, formatTable } from "./format.js";
export { HELP_ENTRIES, help } from "./help.js";
export type {
  AddExperimentToShareArgs,
  AddModelToShareArgs,
  ChartAxis,
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
  Plan,
  PlanStep,
  PlotExperimentMetricArgs,
  PlotSharedMetricArgs,
  RefreshShareArgs,
  RemoveFromShareArgs,
  RowFilter,
  RuntimeStep,
  Scalar,
  SchemaCoordinate,
  SelectFromShareArgs,
  ShowGrantsArgs,
  ShowRecipientsArgs,
  ShowRemoteSharesArgs,
  ShowRemoteTablesArgs,
  ShowSharesArgs,
  ShowTablesArgs,
  StepKind,
  TableCoordinate,
} from "./plan.js";
export { DEFAULT_PREVIEW_ROWS } from "./plan.js";
export type {
  ActionOutput,
  NameContext,
  Runtime,
  RuntimeStepKind,
  StepContext,
  TableOutput,
} from "./runtime.js";
export { defaultRuntime } from "./runtime.js";
export type { ExecuteCallOptions, Session, SessionOptions } from "./session.js";
export { createSession } from "./session.js";
