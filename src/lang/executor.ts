// Runs a plan step by step: session steps here, the rest through the Runtime. Emits a progress
// event as each step starts and whenever the Runtime reports progress, and turns what the steps
// return into one StatementResult per statement.
import { ArcuateError, messageOf } from "../errors.js";
import {
  type ChartOutput,
  type ChartResult,
  chartSpec,
  chartText,
  downsampleNote,
  drawnSeries,
} from "./chart.js";
import { renderSvg } from "./chart-svg.js";
import { describeStep, formatPlan } from "./explain.js";
import { help } from "./help.js";
import type { Plan, RuntimeStep } from "./plan.js";
import type { ActionOutput, Runtime, StepContext, TableOutput } from "./runtime.js";
import { type TraceOutput, type TraceResult, traceResult } from "./span-tree.js";

const SESSION_STEPS = new Set<string>(["useMlflow", "useProfile", "explain", "help"]);

export type StatementResult =
  | { kind: "table"; title?: string; columns: string[]; rows: unknown[][]; totalRows?: number }
  | { kind: "message"; text: string }
  | { kind: "plan"; text: string }
  | ChartResult
  | TraceResult;

/** What one Runtime step returns. */
type StepOutput = ActionOutput | TableOutput | ChartOutput | TraceOutput;

export interface ProgressEvent {
  step: string;
  message: string;
  done?: number;
  total?: number;
}

/** The session state a plan may change (USE MLFLOW, USE PROFILE). */
export interface SessionState {
  mlflowUri: string | null;
  profile: string | null;
}

export interface ExecuteOptions {
  runtime: Runtime;
  state: SessionState;
  onProgress?: ((event: ProgressEvent) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export async function executePlan(plan: Plan, options: ExecuteOptions): Promise<StatementResult> {
  // What the statement needs is checked before any step changes something (see Runtime.validate).
  const runtimeSteps = plan.steps.filter((s): s is RuntimeStep => !SESSION_STEPS.has(s.step));
  // An own property only: test runtimes that answer every property (proxies) have no validate.
  const validates = Object.hasOwn(options.runtime, "validate");
  if (validates && options.runtime.validate && runtimeSteps.length > 0) {
    await options.runtime.validate(runtimeSteps).catch((error: unknown) => {
      throw inStatement(error, plan.statement);
    });
  }
  const messages: string[] = [];
  let table: TableOutput | undefined;
  let chart: ChartOutput | undefined;
  let trace: TraceOutput | undefined;
  for (const step of plan.steps) {
    options.signal?.throwIfAborted();
    switch (step.step) {
      case "useMlflow":
        options.state.mlflowUri = step.args.uri;
        messages.push(`using MLflow at ${step.args.uri}`);
        break;
      case "useProfile":
        options.state.profile = step.args.path;
        messages.push(`using profile ${step.args.path}`);
        break;
      case "explain":
        return { kind: "plan", text: formatPlan(step.args.plan) };
      case "help":
        messages.push(help(step.args.topic ?? undefined));
        break;
      default: {
        const output = await runStep(step, plan, options);
        if (typeof output === "string") messages.push(output);
        else if (isChart(output)) chart = output;
        else if (isTrace(output)) trace = output;
        else table = output;
      }
    }
  }
  if (chart) return chartResult(chart);
  if (trace) return traceResult(trace);
  if (table) return { kind: "table", ...table };
  return { kind: "message", text: messages.join("\n") };
}

async function runStep(step: RuntimeStep, plan: Plan, options: ExecuteOptions): Promise<StepOutput> {
  const emit = options.onProgress ?? (() => {});
  emit({ step: step.step, message: describeStep(step) });
  const context: StepContext = {
    progress: (message, done, total) =>
      emit({
        step: step.step,
        message,
        ...(done === undefined ? {} : { done }),
        ...(total === undefined ? {} : { total }),
      }),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  try {
    return await callRuntime(options.runtime, step, context);
  } catch (error) {
    throw inStatement(error, plan.statement);
  }
}

function callRuntime(runtime: Runtime, step: RuntimeStep, context: StepContext): Promise<StepOutput> {
  switch (step.step) {
    case "createShare":
      return runtime.createShare(step.args, context);
    case "dropShare":
      return runtime.dropShare(step.args, context);
    case "addExperimentToShare":
      return runtime.addExperimentToShare(step.args, context);
    case "addModelToShare":
      return runtime.addModelToShare(step.args, context);
    case "addPromptToShare":
      return runtime.addPromptToShare(step.args, context);
    case "alterShareDetails":
      return runtime.alterShareDetails(step.args, context);
    case "removeFromShare":
      return runtime.removeFromShare(step.args, context);
    case "refreshShare":
      return runtime.refreshShare(step.args, context);
    case "createRecipient":
      return runtime.createRecipient(step.args, context);
    case "dropRecipient":
      return runtime.dropRecipient(step.args, context);
    case "alterRecipient":
      return runtime.alterRecipient(step.args, context);
    case "grant":
      return runtime.grant(step.args, context);
    case "revoke":
      return runtime.revoke(step.args, context);
    case "showShares":
      return runtime.showShares(step.args, context);
    case "showRecipients":
      return runtime.showRecipients(step.args, context);
    case "showGrants":
      return runtime.showGrants(step.args, context);
    case "showAccess":
      return runtime.showAccess(step.args, context);
    case "showTables":
      return runtime.showTables(step.args, context);
    case "showRemoteModels":
      return runtime.showRemoteModels(step.args, context);
    case "importModelAsset":
      return runtime.importModelAsset(step.args, context);
    case "describeShare":
      return runtime.describeShare(step.args, context);
    case "describeRecipient":
      return runtime.describeRecipient(step.args, context);
    case "describeHistory":
      return runtime.describeHistory(step.args, context);
    case "showRemoteShares":
      return runtime.showRemoteShares(step.args, context);
    case "showRemoteTables":
      return runtime.showRemoteTables(step.args, context);
    case "importExperiment":
      return runtime.importExperiment(step.args, context);
    case "importModel":
      return runtime.importModel(step.args, context);
    case "importPrompt":
      return runtime.importPrompt(step.args, context);
    case "selectFromShare":
      return runtime.selectFromShare(step.args, context);
    case "plotSharedMetric":
      return runtime.plotSharedMetric(step.args, context);
    case "plotExperimentMetric":
      return runtime.plotExperimentMetric(step.args, context);
    case "showSharedTrace":
      return runtime.showSharedTrace(step.args, context);
    case "showExperimentTrace":
      return runtime.showExperimentTrace(step.args, context);
  }
}

function isChart(output: Exclude<StepOutput, string>): output is ChartOutput {
  return (output as Partial<ChartOutput>).kind === "chart";
}

function isTrace(output: Exclude<StepOutput, string>): output is TraceOutput {
  return (output as Partial<TraceOutput>).kind === "trace";
}

/** A PLOT step's histories as the notebook shows them: downsampled, as a spec, an SVG and text. */
async function chartResult(chart: ChartOutput): Promise<ChartResult> {
  const drawn = drawnSeries(chart.series);
  const points = chart.series.reduce((n, s) => n + s.points.length, 0);
  const drawnPoints = drawn.reduce((n, s) => n + s.points.length, 0);
  const note = downsampleNote(points, drawnPoints);
  const spec = chartSpec(chart, drawn, note);
  return {
    kind: "chart",
    title: chart.title,
    metric: chart.metric,
    x: chart.x,
    runs: chart.series.length,
    points,
    drawnPoints,
    spec,
    svg: await renderSvg(spec),
    text: chartText(chart, note),
  };
}

/**
 * The error of a failed step, its message prefixed with the statement, so a cell of several
 * statements says which one failed. An ArcuateError keeps its class and code (callers match on
 * them); anything else becomes an INTERNAL_ERROR with the original as its cause.
 */
function inStatement(error: unknown, statement: string): ArcuateError {
  const label = statementLabel(statement);
  if (error instanceof ArcuateError) {
    if (!error.message.startsWith(label)) error.message = `${label}: ${error.message}`;
    return error;
  }
  return new ArcuateError("INTERNAL_ERROR", `${label}: ${messageOf(error)}`, { cause: error });
}

// A failed statement is named whole up to this length; past it, by its start and its end, where
// the coordinate or name a failure is about usually stands ("… USING SHARE 'p.share#s.x'").
const LABEL_WHOLE = 240;
const LABEL_HEAD = 150;
const LABEL_TAIL = 80;

/** The statement on one line: whole when it fits, else its start and its end around a '…'. */
export function statementLabel(statement: string): string {
  const line = statement.replace(/\s+/g, " ").trim();
  if (line.length <= LABEL_WHOLE) return line;
  return `${line.slice(0, LABEL_HEAD).trimEnd()} … ${line.slice(-LABEL_TAIL).trimStart()}`;
}
