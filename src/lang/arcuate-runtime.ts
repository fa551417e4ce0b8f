// The Runtime over arcuate's own modules: the provider's catalog and exports under the working
// folder (src/sharing/catalog, src/exchange), MLflow through src/mlflow, and the recipient's side
// through the Delta Sharing client. Each method is one plan step; errors name the object.
import { resolve } from "node:path";
import pLimit from "p-limit";
import type { NameRole } from "../../grammar/expected.js";
import { DeltaTable } from "../delta/index.js";
import { ArcuateError, ConfigurationError } from "../errors.js";
import { importModelAsset } from "../exchange/import-model-asset.js";
import {
  type AssetsSummary,
  describeNotCarried,
  Exchange,
  type ProgressEvent as ExchangeProgress,
  type ExportSummary,
  type ImportSummary,
  sourceExperiment,
  sourceModel,
} from "../exchange/index.js";

import { allPages, MlflowClient } from "../mlflow/index.js";
import { Catalog, type ShareDetailsChange } from "../sharing/catalog/catalog.js";
import { resolveCatalogLocation } from "../sharing/catalog/location.js";
import {
  describeLimits,
  describeRateLimit,
  type RecipientLimitsChange,
} from "../sharing/catalog/recipient-limits.js";
import { loadProfile, SharingClient } from "../sharing/client/index.js";
import { ModelSharingClient } from "../sharing/client/models.js";
import type { ChartOutput, ChartSeries } from "./chart.js";
import { matchesFilter, toJsonPredicate } from "./filter.js";
import type {
  ChartAxis,
  PlotExperimentMetricArgs,
  PlotSharedMetricArgs,
  SchemaCoordinate,
  SelectFromShareArgs,
} from "./plan.js";
import type { NameContext, Runtime, StepContext, TableOutput } from "./runtime.js";
import { showAccess } from "./show-access.js";
import { readExperimentTrace, readSharedTrace } from "./trace-runtime.js";

/** Where the provider's catalog lives: the working folder itself (exports go under `tables/`). */
export function catalogDir(workDir: string): string {
  return workDir;
}

const catalogs = new Map<string, Promise<Catalog>>();
function openCatalog(workDir: string): Promise<Catalog> {
  const dir = resolve(catalogDir(workDir));
  const location = resolveCatalogLocation(undefined, dir); // $ARCUATE_CATALOG, else the folder
  let catalog = catalogs.get(location);
  if (!catalog) {
    catalog = Catalog.open(location, { workDir: dir });
    catalogs.set(location, catalog);
    catalog.catch(() => catalogs.delete(location));
  }
  return catalog;
}

/** The MLflow client of a step; `null` (no server set) only reaches here from a hand-made plan. */
function mlflowAt(uri: string | null): MlflowClient {
  if (uri === null)
    throw new ConfigurationError("this statement needs an MLflow server: run USE MLFLOW first");
  return new MlflowClient({ trackingUri: uri });
}

/** Relative profile paths are read from the current folder (a notebook's folder in the kernel). */
async function sharingClient(profile: string): Promise<SharingClient> {
  return new SharingClient(await loadProfile(resolve(profile)));
}

/** A client of the OpenSharing model endpoints, able to read the storage locations they name. */
async function modelClient(profile: string): Promise<ModelSharingClient> {
  return new ModelSharingClient(await loadProfile(resolve(profile)));
}

function coordinate(source: SchemaCoordinate): string {
  return `${resolve(source.profile)}#${source.share}.${source.schema}`;
}

function reporter(context: StepContext): (event: ExchangeProgress) => void {
  return (event) => context.progress(event.message, event.done, event.total);
}

function exportMessage(what: string, summary: ExportSummary, share: string): string {
  const parts = [
    `${summary.runs} runs (${summary.changedRuns} new or changed)`,
    `${summary.metricPoints} new metric points`,
    `${summary.artifactFiles} new artifact files (${(summary.artifactBytes / 1048576).toFixed(1)} MiB)`,
  ];
  if (summary.kind === "model") parts.unshift(`${summary.versions} versions`);
  if (summary.loggedModels > 0) parts.push(`${summary.loggedModels} logged models`);
  const skipped = describeNotCarried(summary.notCarried);
  return `exported ${what} into ${share}.${summary.schema} (export ${summary.exportSeq}): ${parts.join(", ")}${skipped ? `\nnot carried (this export does not hold them): ${skipped}` : ""}`;
}

/** The GenAI asset kinds' counts ("traces: 3 (12 spans, 6 assessments)"), and what was skipped. */
function assetsMessage(summary: Partial<AssetsSummary>): string {
  const parts = Object.entries(summary.assets ?? {}).map(([kind, s]) => {
    const [first, ...rest] = Object.entries(s.counts);
    if (!first) return kind;
    const more = rest.map(([k, v]) => `${v} ${k}`).join(", ");
    return `${kind}: ${first[1]} ${first[0]}${more ? ` (${more})` : ""}`;
  });
  const skipped = (summary.skipped ?? []).map((m) => `\nskipped ${m}`).join("");
  return `${parts.length > 0 ? `; ${parts.join("; ")}` : ""}${skipped}`;
}

function importMessage(what: string, summary: ImportSummary): string {
  const parts = [
    `${summary.runs} runs (${summary.createdRuns} created)`,
    `${summary.metricPoints} metric points`,
    `${summary.artifactFiles} artifact files`,
  ];
  if (summary.versions > 0)
    parts.unshift(`${summary.versions} versions (${summary.createdVersions} created)`);
  const skipped = describeNotCarried(summary.notCarried);
  return `imported ${what}: ${parts.join(", ")}${skipped ? `\nnot carried: ${skipped}` : ""}`;
}

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

/** The Runtime that does the real work, keeping the provider's state under `workDir`. */
export function arcuateRuntime(): Runtime {
  // Shares the running statement creates (`CREATE SHARE s WITH …`): when an export into one fails
  // while it still holds nothing, it is dropped again, so the statement can simply be rerun.
  let sharesOfStatement = new Set<string>();
  const shareKey = (workDir: string, share: string) => `${resolve(workDir)}\u0000${share.toLowerCase()}`;
  const undoEmptyShare = async (workDir: string, share: string) => {
    if (!sharesOfStatement.has(shareKey(workDir, share))) return;
    const catalog = await openCatalog(workDir);
    const info = await catalog.getShare(share).catch(() => undefined);
    if (info && info.tables.length === 0) await catalog.dropShare(share, { ifExists: true });
  };
  /** Runs an export into `share` with the provider's exchange; a failure drops the share it emptied. */
  const exportInto = async <T>(
    args: { mlflowUri: string | null; workDir: string; share: string },
    run: (exchange: Exchange) => Promise<T>,
  ): Promise<T> => {
    const exchange = new Exchange({
      mlflow: mlflowAt(args.mlflowUri),
      catalog: await openCatalog(args.workDir),
      workDir: args.workDir,
    });
    return run(exchange).catch(async (error: unknown) => {
      await undoEmptyShare(args.workDir, args.share);
      throw error;
    });
  };
  return {
    async validate(steps) {
      const creating = new Set<string>();
      for (const step of steps) {
        if (step.step === "createShare") {
          const catalog = await openCatalog(step.args.workDir);
          const exists = (await catalog.listShares()).some(
            (s) => s.name.toLowerCase() === step.args.share.toLowerCase(),
          );
          if (!exists) creating.add(shareKey(step.args.workDir, step.args.share));
        } else if (step.step === "addExperimentToShare") {
          await sourceExperiment(mlflowAt(step.args.mlflowUri), step.args.experiment);
        } else if (step.step === "addModelToShare") {
          await sourceModel(mlflowAt(step.args.mlflowUri), step.args.model);
        }
      }
      sharesOfStatement = creating;
    },
    async createShare(args) {
      const catalog = await openCatalog(args.workDir);
      const existed = (await catalog.listShares()).some(
        (s) => s.name.toLowerCase() === args.share.toLowerCase(),
      );
      await catalog.createShare(args.share, {
        ifNotExists: args.ifNotExists,
        ...(args.comment ? { comment: args.comment } : {}),
      });
      return existed ? `share ${args.share} already exists` : `created share ${args.share}`;
    },
    async dropShare(args) {
      const dropped = await (await openCatalog(args.workDir)).dropShare(args.share, {
        ifExists: args.ifExists,
      });
      return dropped ? `dropped share ${args.share}` : `share ${args.share} does not exist`;
    },
    async createRecipient(args) {
      const catalog = await openCatalog(args.workDir);
      if (
        args.ifNotExists &&
        (await catalog.listRecipients()).some((r) => r.name.toLowerCase() === args.recipient.toLowerCase())
      ) {
        return `recipient ${args.recipient} already exists (its credentials are not shown again)`;
      }
      const options = args.comment ? { comment: args.comment } : {};
      if (args.activationLink) {
        const link = await catalog.createRecipientWithActivationLink(args.recipient, {
          ...options,
          ...(args.oauth ? { oauth: {} } : {}),
        });
        return `created recipient ${args.recipient}; its one-time activation link (shown once, valid until ${link.expiresAt}; the recipient downloads its profile from it) is:\n${link.url}`;
      }
      const created = args.oauth
        ? await catalog.createOAuthRecipient(args.recipient, options)
        : await catalog.createRecipient(args.recipient, options);
      const secret = args.oauth ? "the client secret" : "the token";
      return [
        `created recipient ${args.recipient}; its profile (shown once, ${secret} is not stored) is at ${created.profilePath}:`,
        JSON.stringify(created.profile, null, 2),
      ].join("\n");
    },
    async dropRecipient(args) {
      const dropped = await (await openCatalog(args.workDir)).dropRecipient(args.recipient, {
        ifExists: args.ifExists,
      });
      return dropped ? `dropped recipient ${args.recipient}` : `recipient ${args.recipient} does not exist`;
    },
    async alterRecipient(args) {
      const change: RecipientLimitsChange = {};
      if (args.allowedAddresses !== undefined) change.allowedAddresses = args.allowedAddresses;
      if (args.rateLimit !== undefined) change.rateLimit = args.rateLimit;
      return describeLimits(await (await openCatalog(args.workDir)).alterRecipient(args.recipient, change));
    },
    async grant(args) {
      await (await openCatalog(args.workDir)).grant(args.share, args.recipient);
      return `granted SELECT on share ${args.share} to recipient ${args.recipient}`;
    },
    async revoke(args) {
      const revoked = await (await openCatalog(args.workDir)).revoke(args.share, args.recipient);
      return revoked
        ? `revoked SELECT on share ${args.share} from recipient ${args.recipient}`
        : `recipient ${args.recipient} had no grant on share ${args.share}`;
    },
    async showShares(args) {
      const shares = await (await openCatalog(args.workDir)).listShares();
      return {
        title: "shares",
        columns: ["share", "tables", "recipients", "comment", "created"],
        rows: shares.map((s) => [
          s.name,
          s.tables.length,
          s.recipients.join(", "),
          s.comment ?? null,
          s.createdAt,
        ]),
      };
    },
    async showRecipients(args) {
      const recipients = await (await openCatalog(args.workDir)).listRecipients();
      return {
        title: "recipients",
        columns: ["recipient", "shares", "comment", "created", "expires"],
        rows: recipients.map((r) => [
          r.name,
          r.shares.join(", "),
          r.comment ?? null,
          r.createdAt,
          r.expiresAt ?? null,
        ]),
      };
    },
    async showGrants(args) {
      const grants = await (await openCatalog(args.workDir)).listGrants({
        ...(args.share ? { share: args.share } : {}),
        ...(args.recipient ? { recipient: args.recipient } : {}),
      });
      return {
        title: "grants",
        columns: ["share", "recipient", "granted"],
        rows: grants.map((g) => [g.share, g.recipient, g.grantedAt]),
      };
    },
    async showAccess(args) {
      return showAccess(await openCatalog(args.workDir), args);
    },
    async showTables(args) {
      const share = await (await openCatalog(args.workDir)).getShare(args.share);
      return {
        title: `tables in share ${share.name}`,
        columns: ["schema", "table", "location"],
        rows: share.tables.map((t) => [t.schema, t.name, t.location]),
      };
    },
    async describeShare(args) {
      const share = await (await openCatalog(args.workDir)).getShare(args.share);
      const rows: unknown[][] = [];
      for (const t of share.tables) {
        const snapshot = await (await DeltaTable.open(t.location)).snapshot();
        rows.push([
          t.schema,
          t.name,
          snapshot.version,
          snapshot.numRecords ?? null,
          snapshot.metadata.configuration["arcuate.kind"] ?? null,
          new Date(snapshot.timestamp).toISOString(),
        ]);
      }
      return {
        title: `share ${share.name}${share.comment ? ` — ${share.comment}` : ""} (recipients: ${share.recipients.join(", ") || "none"})`,
        columns: ["schema", "table", "version", "rows", "kind", "updated"],
        rows,
      };
    },
    async describeRecipient(args) {
      const recipient = (await (await openCatalog(args.workDir)).listRecipients()).find(
        (r) => r.name.toLowerCase() === args.recipient.toLowerCase(),
      );
      if (!recipient)
        throw new ArcuateError(
          "RESOURCE_DOES_NOT_EXIST",
          `catalog: recipient '${args.recipient}' does not exist`,
        );
      return {
        title: `recipient ${recipient.name}`,
        columns: ["property", "value"],
        rows: [
          ["name", recipient.name],
          ["shares", recipient.shares.join(", ")],
          ["comment", recipient.comment ?? null],
          ["created", recipient.createdAt],
          ["expires", recipient.expiresAt ?? "never"],
          [
            "credentials",
            recipient.oauth
              ? `OAuth client credentials (access tokens last ${recipient.oauth.accessTokenSeconds} s)`
              : "bearer token",
          ],
          ["allowed addresses", recipient.allowedAddresses?.join(", ") ?? "any"],
          ["rate limit", recipient.rateLimit ? describeRateLimit(recipient.rateLimit) : "none of its own"],
        ],
      };
    },
    async describeHistory(args) {
      const share = await (await openCatalog(args.workDir)).getShare(args.share);
      const entry = share.tables.find(
        (t) =>
          t.schema.toLowerCase() === args.schema.toLowerCase() &&
          t.name.toLowerCase() === args.table.toLowerCase(),
      );
      if (!entry)
        throw new ArcuateError(
          "RESOURCE_DOES_NOT_EXIST",
          `catalog: table '${args.share}.${args.schema}.${args.table}' does not exist`,
        );
      const history = await (await DeltaTable.open(entry.location)).history();
      return {
        title: `history of ${args.share}.${args.schema}.${args.table}`,
        columns: ["version", "timestamp", "operation", "rows written", "export"],
        rows: history.map((c) => [
          c.version,
          new Date(c.timestamp).toISOString(),
          c.operation ?? null,
          (c.commitInfo?.operationMetrics as Record<string, string> | undefined)?.numOutputRows ?? null,
          (c.commitInfo as Record<string, unknown> | undefined)?.["arcuate.exportSeq"] ?? null,
        ]),
      };
    },
    async addExperimentToShare(args, context) {
      const summary = await exportInto(args, (exchange) =>
        exchange.exportExperiments(args.experiment, args.schema, args.share, {
          onProgress: reporter(context),
          traces: args.traces,
        }),
      );
      return exportMessage(`experiment '${args.experiment}'`, summary, args.share) + assetsMessage(summary);
    },
    async addPromptToShare(args, context) {
      const summary = await exportInto(args, (exchange) =>
        exchange.exportPrompts(args.prompt, args.schema, args.share, { onProgress: reporter(context) }),
      );
      return `exported prompt '${args.prompt}' into ${args.share}.${args.schema}${assetsMessage(summary)}`;
    },
    async addModelToShare(args, context) {
      const summary = await exportInto(args, (exchange) =>
        exchange.exportModels(args.model, args.schema, args.share, { onProgress: reporter(context) }),
      );
      return exportMessage(`model '${args.model}'`, summary, args.share);
    },
    async alterShareDetails(args) {
      const change: ShareDetailsChange = {};
      if (args.displayName !== undefined) change.displayName = args.displayName;
      if (args.comment !== undefined) change.comment = args.comment;
      if (args.properties !== undefined) change.properties = args.properties;
      const info = await (await openCatalog(args.workDir)).alterShare(args.share, change);
      const props = Object.keys(info.properties ?? {}).length;
      return `share ${info.name}: display name ${info.displayName === undefined ? "not set" : `'${info.displayName}'`}, ${props} ${props === 1 ? "property" : "properties"}`;
    },
    async removeFromShare(args) {
      const catalog = await openCatalog(args.workDir);
      const share = await catalog.getShare(args.share);
      const tables = share.tables.filter((t) => t.schema.toLowerCase() === args.schema.toLowerCase());
      if (tables.length === 0)
        throw new ArcuateError(
          "RESOURCE_DOES_NOT_EXIST",
          `catalog: share '${args.share}' has no schema '${args.schema}'`,
        );
      for (const t of tables) await catalog.removeTable(args.share, t.schema, t.name);
      return `removed ${args.schema} (${tables.length} tables) from share ${args.share}`;
    },
    async refreshShare(args, context) {
      const catalog = await openCatalog(args.workDir);
      const share = await catalog.getShare(args.share);
      const schemas = [...new Set(share.tables.map((t) => t.schema))].filter(
        (s) => args.schema === null || s.toLowerCase() === args.schema.toLowerCase(),
      );
      if (schemas.length === 0) {
        throw new ArcuateError(
          "RESOURCE_DOES_NOT_EXIST",
          `catalog: share '${args.share}' has no export${args.schema ? ` '${args.schema}'` : "s"} to refresh`,
        );
      }
      const exchange = new Exchange({ mlflow: mlflowAt(args.mlflowUri), catalog, workDir: args.workDir });
      const messages: string[] = [];
      for (const schema of schemas) {
        // The export's index table names what it exports: versions, prompt_versions or runs.
        const inSchema = (name: string) => share.tables.find((t) => t.schema === schema && t.name === name);
        const indexTable = inSchema("versions") ?? inSchema("prompt_versions") ?? inSchema("runs");
        const snapshot = indexTable
          ? await (await DeltaTable.open(indexTable.location)).snapshot()
          : undefined;
        const kind = snapshot?.metadata.configuration["arcuate.kind"];
        const nameColumn =
          kind === "model" ? "model_name" : kind === "prompt" ? "prompt_name" : "experiment_name";
        const batches = snapshot ? await snapshot.readArrow({ columns: [nameColumn], limit: 1 }) : undefined;
        const name = batches?.numRows ? String(batches.get(0)!.toJSON()[nameColumn]) : undefined;
        if (!kind || !name) {
          messages.push(`${schema}: not an arcuate export with rows, left as it is`);
          continue;
        }
        if (kind === "prompt") {
          const summary = await exchange.exportPrompts(name, schema, args.share, {
            onProgress: reporter(context),
          });
          messages.push(`exported prompt '${name}' into ${args.share}.${schema}${assetsMessage(summary)}`);
          continue;
        }
        if (kind === "model") {
          const summary = await exchange.exportModels(name, schema, args.share, {
            onProgress: reporter(context),
          });
          messages.push(exportMessage(`${kind} '${name}'`, summary, args.share));
          continue;
        }
        const summary = await exchange.exportExperiments(name, schema, args.share, {
          onProgress: reporter(context),
          // An export made WITHOUT traces (datasets but no traces) stays without them; one made
          // before arcuate carried GenAI assets gets them.
          traces: inSchema("traces") !== undefined || inSchema("evaluation_datasets") === undefined,
        });
        messages.push(exportMessage(`${kind} '${name}'`, summary, args.share) + assetsMessage(summary));
      }
      return messages.join("\n");
    },
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
    async importExperiment(args, context) {
      const exchange = new Exchange({ mlflow: mlflowAt(args.mlflowUri) });
      const summary = await exchange.importExperiments(coordinate(args.source), args.experiment, {
        replace: args.replace,
        ...(args.version === null ? {} : { version: args.version }),
        onProgress: reporter(context),
      });
      return (
        importMessage(`experiment '${args.experiment}' into ${args.mlflowUri}`, summary) +
        assetsMessage(summary)
      );
    },
    async importPrompt(args, context) {
      const exchange = new Exchange({ mlflow: mlflowAt(args.mlflowUri) });
      const summary = await exchange.importPrompts(coordinate(args.source), args.prompt, {
        replace: args.replace,
        onProgress: reporter(context),
      });
      return `imported prompt '${args.prompt}' into ${args.mlflowUri}${assetsMessage(summary)}`;
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
    async importModelAsset(args, context) {
      const { profile, ...ref } = args.source;
      const summary = await importModelAsset(
        mlflowAt(args.mlflowUri),
        await modelClient(profile),
        ref,
        args.model,
        {
          replace: args.replace,
          ...(args.version === null ? {} : { version: args.version }),
          onProgress: reporter(context),
        },
      );
      return importMessage(`model '${args.model}' into ${args.mlflowUri}`, summary);
    },
    async importModel(args, context) {
      const exchange = new Exchange({ mlflow: mlflowAt(args.mlflowUri) });
      const summary = await exchange.importModels(coordinate(args.source), args.model, {
        replace: args.replace,
        ...(args.version === null ? {} : { version: args.version }),
        onProgress: reporter(context),
      });
      return importMessage(`model '${args.model}' into ${args.mlflowUri}`, summary);
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
    async listNames(role: NameRole, context: NameContext) {
      try {
        if (role === "share")
          return (await (await openCatalog(context.workDir)).listShares()).map((s) => s.name);
        if (role === "recipient")
          return (await (await openCatalog(context.workDir)).listRecipients()).map((r) => r.name);
        if (role === "experiment" && context.mlflowUri) {
          const page = await mlflowAt(context.mlflowUri).experiments.search({ maxResults: 200 });
          return page.items.map((e) => e.name);
        }
        if (role === "model" && context.mlflowUri) {
          const names: string[] = [];
          for await (const m of allPages((t) =>
            mlflowAt(context.mlflowUri!).models.search({ maxResults: 200, ...(t ? { pageToken: t } : {}) }),
          )) {
            names.push(m.name);
            if (names.length >= 200) break;
          }
          return names;
        }
      } catch {
        // Completion must answer fast and never fail: no names is a fine answer.
      }
      return [];
    },
  };
}
