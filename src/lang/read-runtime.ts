// The reading steps: what a recipient sees of a share before importing it (its shares, tables,
// OpenSharing models, rows, metric charts and traces, through the Delta Sharing client), and
// charts and traces read from MLflow itself.
import pLimit from "p-limit";
import { ArcuateError } from "../errors.js";
import type { ChartOutput, ChartSeries } from "./chart.js";
import { matchesFilter, toJsonPredicate } from "./filter.js";
import type {
  ChartAxis,
  PlotExperimentMetricArgs,
  PlotSharedMetricArgs,
  SelectFromShareArgs,
} from "./plan.js";
import type { Runtime, StepContext, TableOutput } from "./runtime.js";
import { mlflowAt, modelClient, sharingClient } from "./runtime-clients.js";
import { readExperimentTrace, readSharedTrace } from "./trace-runtime.js";

/** Cell values for display: bigints as numbers, bytes summarised, maps and lists as JSON. */
function displayValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return Number(value);
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object") {
    const json =
      "toJSON" in value && typeof value.toJSON === "function" ? (value.toJSON() as unknown) : value;
    return JSON.stringify(json, (_, v: unknown) => (typeof v === "bigint" ? Number(v) : v));
  }
  return value;
}

async function selectFromShare(args: SelectFromShareArgs): Promise<TableOutput> {
  const client = await sharingClient(args.source.profile);
  const table = { share: args.source.share, schema: args.source.schema, name: args.source.table };
  const hint = args.where ? toJsonPredicate(args.where) : undefined;
  const rows: unknown[][] = [];
  let columns: string[] | undefined;
  let total = 0;
  for await (const batch of client.queryTableBatches(table, {
    ...(args.version === null ? {} : { version: args.version }),
    // A server may cut rows before it filters them: a LIMIT hint only goes without WHERE.
    ...(args.where ? {} : { limit: args.limit }),
    ...(hint ? { jsonPredicateHints: JSON.stringify(hint) } : {}),
  })) {
    const names = batch.schema.fields.map((f) => f.name);
    columns ??= args.columns ?? names;
    for (const name of columns) {
      if (!names.includes(name)) {
        throw new ArcuateError(
          "INVALID_PARAMETER_VALUE",
          `select: table '${table.share}.${table.schema}.${table.name}' has no column '${name}' (it has ${names.join(", ")})`,
        );
      }
    }
    for (let i = 0; i < batch.numRows; i++) {
      const row = batch.get(i)!.toJSON() as Record<string, unknown>;
      if (args.where && !matchesFilter(args.where, row)) continue;
      total++;
      if (rows.length < args.limit) rows.push(columns.map((c) => displayValue(row[c])));
    }
    if (!args.where && rows.length >= args.limit) break;
  }
  return {
    title: `${table.share}.${table.schema}.${table.name}`,
    columns: columns ?? args.columns ?? [],
    rows,
    ...(total > rows.length ? { totalRows: total } : {}),
  };
}

/** A metric point's x: its step, or its timestamp (ms). */
function pointX(x: ChartAxis, step: unknown, timestamp: unknown): number {
  return Number(x === "step" ? (step ?? 0) : timestamp);
}

/** A metric's value as a number (MLflow sends NaN and infinities as strings). */
function metricNumber(value: unknown): number {
  return typeof value === "number" ? value : Number(value);
}

/**
 * Every run's history of one metric from a shared experiment, read through the Delta Sharing
 * client: run names from its `runs` table, the points from its `metrics` table (the key offered
 * to the server as a predicate hint, and filtered here, as a server may ignore hints).
 */
async function plotSharedMetric(args: PlotSharedMetricArgs, context: StepContext): Promise<ChartOutput> {
  const client = await sharingClient(args.source.profile);
  const { share, schema } = args.source;
  const names = new Map<string, string>();
  for await (const batch of client.queryTableBatches({ share, schema, name: "runs" })) {
    for (let i = 0; i < batch.numRows; i++) {
      const row = batch.get(i)!.toJSON() as Record<string, unknown>;
      names.set(String(row["run_id"]), String(row["run_name"] ?? row["run_id"]));
    }
  }
  const byRun = new Map<string, ChartSeries>();
  const filter = { op: "compare", operator: "=", column: "key", value: args.metric } as const;
  let read = 0;
  for await (const batch of client.queryTableBatches(
    { share, schema, name: "metrics" },
    { jsonPredicateHints: JSON.stringify(toJsonPredicate(filter)) },
  )) {
    for (let i = 0; i < batch.numRows; i++) {
      const row = batch.get(i)!.toJSON() as Record<string, unknown>;
      if (row["key"] !== args.metric) continue;
      const runId = String(row["run_id"]);
      let series = byRun.get(runId);
      if (!series) {
        series = { run: names.get(runId) ?? runId, runId, points: [] };
        byRun.set(runId, series);
      }
      series.points.push({ x: pointX(args.x, row["step"], row["timestamp"]), y: metricNumber(row["value"]) });
    }
    read += batch.numRows;
    context.progress(`read ${read} metric points`, read);
  }
  return {
    kind: "chart",
    title: `${args.metric} in ${share}.${schema}`,
    metric: args.metric,
    x: args.x,
    series: [...byRun.values()].sort((a, b) => a.run.localeCompare(b.run)),
  };
}

/** Every run's history of one metric from an experiment in MLflow (metrics/get-history, paged). */
async function plotExperimentMetric(
  args: PlotExperimentMetricArgs,
  context: StepContext,
): Promise<ChartOutput> {
  const mlflow = mlflowAt(args.mlflowUri);
  const experiment = await mlflow.experiments.getByName(args.experiment);
  const runs: { id: string; name: string }[] = [];
  for await (const run of mlflow.runs.searchAll({ experimentIds: [experiment.experiment_id] }))
    runs.push({ id: run.info.run_id, name: run.info.run_name ?? run.info.run_id });
  const limit = pLimit(4);
  let done = 0;
  const series = await Promise.all(
    runs.map((run) =>
      limit(async (): Promise<ChartSeries> => {
        const points = [];
        for await (const m of mlflow.metrics.history(run.id, args.metric))
          points.push({ x: pointX(args.x, m.step, m.timestamp), y: metricNumber(m.value) });
        context.progress(`read the histories of ${++done} runs`, done, runs.length);
        return { run: run.name, runId: run.id, points };
      }),
    ),
  );
  return {
    kind: "chart",
    title: `${args.metric} in experiment '${args.experiment}'`,
    metric: args.metric,
    x: args.x,
    series: series.filter((s) => s.points.length > 0).sort((a, b) => a.run.localeCompare(b.run)),
  };
}

export type ReadSteps = Pick<
  Runtime,
  | "showRemoteShares"
  | "showRemoteTables"
  | "showRemoteModels"
  | "selectFromShare"
  | "plotSharedMetric"
  | "plotExperimentMetric"
  | "showSharedTrace"
  | "showExperimentTrace"
  | "listColumns"
  | "listSharedTables"
>;

export function readSteps(): ReadSteps {
  return {
    async showRemoteShares(args) {
      const client = await sharingClient(args.profile);
      const shares = await client.listShares();
      return { title: "shares", columns: ["share"], rows: shares.map((s) => [s.name]) };
    },
    async showRemoteTables(args) {
      const client = await sharingClient(args.profile);
      const tables = args.schema
        ? await client.listTables(args.share, args.schema)
        : await client.listAllTables(args.share);
      return {
        title: `tables in ${args.share}`,
        columns: ["share", "schema", "table"],
        rows: tables.map((t) => [t.share, t.schema, t.name]),
      };
    },
    async selectFromShare(args) {
      return selectFromShare(args);
    },
    plotSharedMetric,
    plotExperimentMetric,
    async showSharedTrace(args, context) {
      return readSharedTrace(await sharingClient(args.source.profile), args, context);
    },
    async showExperimentTrace(args) {
      return readExperimentTrace(mlflowAt(args.mlflowUri), args);
    },
    async showRemoteModels(args) {
      const client = await modelClient(args.profile);
      const models = args.schema
        ? await client.listModels(args.share, args.schema)
        : await client.listAllModels(args.share);
      return {
        title: `models in ${args.share}`,
        columns: ["share", "schema", "model", "comment"],
        rows: models.map((m) => [m.share, m.schema, m.name, m.comment ?? ""]),
      };
    },
    async listColumns(table) {
      const client = await sharingClient(table.profile);
      const info = await client.tableMetadata({
        share: table.share,
        schema: table.schema,
        name: table.table,
      });
      const schema = JSON.parse(info.metadata.schemaString) as { fields?: { name: string }[] };
      return (schema.fields ?? []).map((field) => field.name);
    },
    async listSharedTables(profile) {
      const client = await sharingClient(profile);
      const tables = [];
      for (const share of await client.listShares()) tables.push(...(await client.listAllTables(share.name)));
      return tables.map((t) => ({ share: t.share, schema: t.schema, name: t.name }));
    },
  };
}
