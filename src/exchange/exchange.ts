// The exchange API in the spirit of the original tool: export an experiment or a model into a
// share, import one from a share (or from tables already loaded). It ties the pieces together:
// the MLflow client, the provider's catalog, the Delta Sharing client.
import type { Table } from "apache-arrow";
import { ArcuateError } from "../errors.js";
import type { MlflowClient } from "../mlflow/index.js";
import type { Catalog } from "../sharing/catalog/catalog.js";
import { loadProfile, parseLocation, SharingClient } from "../sharing/client/index.js";
import { resolveWorkDir } from "../workdir.js";
import {
  type AssetSummary,
  experimentAssets,
  exportAssets,
  importAssets,
  PROMPT_ASSETS,
} from "./assets/index.js";
import { type ExportOptions, type ExportSummary, exportExperiment, exportModel } from "./export.js";
import type { ExportKind, TableName } from "./format.js";
import { type ImportOptions, type ImportSummary, importExperiment } from "./import.js";
import { importModel } from "./import-model.js";
import { checkExport, type ExportSource, LoadedExportSource, SharedExportSource } from "./source.js";

/** A coordinate `profile#share.schema`, or the export's tables already loaded. */
export type ImportSource = string | Partial<Record<TableName, Table>>;

export interface ExchangeOptions {
  /** The provider's or the recipient's MLflow. */
  mlflow: MlflowClient;
  /** The provider's catalog (export only). */
  catalog?: Catalog;
  /** arcuate's working folder, where exported tables are written (export only). */
  workDir?: string;
}

/** An experiment export carries its traces unless `traces: false` (WITHOUT TRACES). */
export interface ExperimentExportOptions extends ExportOptions {
  traces?: boolean;
}

/** What the asset kinds beyond runs did (traces, datasets, prompts), and what they skipped. */
export interface AssetsSummary {
  assets: Record<string, AssetSummary>;
  /** Human-readable: what could not be exported or imported, and why. */
  skipped: string[];
}

export class Exchange {
  private readonly options: ExchangeOptions;

  constructor(options: ExchangeOptions) {
    // Checked here, not at the first call: a plain-JavaScript caller passing a URL where the
    // client belongs would otherwise fail deep inside an export with "cannot read properties".
    // By shape, not instanceof: a notebook may load the package twice (sources and dist).
    if (!isMlflowClient(options?.mlflow)) {
      throw new ArcuateError(
        "INVALID_PARAMETER_VALUE",
        `exchange: 'mlflow' must be an MlflowClient (new MlflowClient({ trackingUri })), not ${describeValue(options?.mlflow)}`,
      );
    }
    if (options.workDir !== undefined && (typeof options.workDir !== "string" || options.workDir === "")) {
      throw new ArcuateError("INVALID_PARAMETER_VALUE", "exchange: 'workDir' must be a folder path");
    }
    // The working folder every command uses (--workdir, $ARCUATE_WORKDIR, the current folder).
    this.options = { ...options, workDir: resolveWorkDir(options.workDir) };
  }

  /** Exports `experimentName` into `shareName` as schema `exportName`, and shares its tables. */
  exportExperiments(
    experimentName: string,
    exportName: string,
    shareName: string,
    options: ExperimentExportOptions = {},
  ): Promise<ExportSummary & AssetsSummary> {
    return this.export("experiment", experimentName, exportName, shareName, options);
  }

  /** Exports the prompt `promptName` (every version, aliases) into `shareName` as `exportName`. */
  exportPrompts(
    promptName: string,
    exportName: string,
    shareName: string,
    options: ExportOptions = {},
  ): Promise<ExportSummary & AssetsSummary> {
    return this.export("prompt", promptName, exportName, shareName, options);
  }

  /** Imports an exported prompt as `promptName`. */
  async importPrompts(
    source: ImportSource,
    promptName: string,
    options: ImportOptions = {},
  ): Promise<AssetsSummary> {
    const opened = await openSource(source, "prompt");
    await checkExport(opened, "prompt");
    const result = await importAssets(PROMPT_ASSETS, {
      mlflow: this.options.mlflow,
      source: opened,
      name: promptName,
      ...(options.replace ? { replace: true } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    return { assets: result.summaries, skipped: result.skipped };
  }

  /** Exports the registered model `modelName` (all versions) into `shareName` as `exportName`. */
  exportModels(
    modelName: string,
    exportName: string,
    shareName: string,
    options: ExportOptions = {},
  ): Promise<ExportSummary> {
    return this.export("model", modelName, exportName, shareName, options);
  }

  /** Imports an exported experiment into the experiment `experimentName`. */
  async importExperiments(
    source: ImportSource,
    experimentName: string,
    options: ImportOptions = {},
  ): Promise<ImportSummary & AssetsSummary> {
    const opened = await openSource(source, "experiment");
    const summary = await importExperiment(this.options.mlflow, opened, experimentName, options);
    const result = await importAssets(experimentAssets(), {
      mlflow: this.options.mlflow,
      source: opened,
      experiment: await this.options.mlflow.experiments.get(summary.experimentId),
      name: experimentName,
      ...(options.replace ? { replace: true } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    });
    return { ...summary, assets: result.summaries, skipped: result.skipped };
  }

  /** Imports an exported registered model as `modelName`. */
  async importModels(
    source: ImportSource,
    modelName: string,
    options: ImportOptions = {},
  ): Promise<ImportSummary> {
    return importModel(this.options.mlflow, await openSource(source, "model"), modelName, options);
  }

  private async export(
    kind: ExportKind,
    name: string,
    exportName: string,
    shareName: string,
    options: ExperimentExportOptions,
  ): Promise<ExportSummary & AssetsSummary> {
    const { catalog, workDir, mlflow } = this.options;
    if (!catalog || !workDir) {
      throw new ArcuateError(
        "INVALID_PARAMETER_VALUE",
        "exchange: exporting needs the provider's catalog: new Exchange({ mlflow, catalog: await Catalog.open(workDir) })",
      );
    }
    await catalog.getShare(shareName);
    const target = { workDir, share: shareName, schema: exportName };
    // The exchange orders the asset kinds: runs and what they hold first (export.ts), then the
    // kinds beyond them (assets/), each into tables of the same schema.
    const summary: ExportSummary =
      kind === "experiment"
        ? await exportExperiment(mlflow, name, target, options)
        : kind === "model"
          ? await exportModel(mlflow, name, target, options)
          : emptySummary(exportName);
    const kinds = kind === "experiment" ? experimentAssets(options) : kind === "prompt" ? PROMPT_ASSETS : [];
    const assets = await exportAssets(kinds, {
      mlflow,
      kind,
      target,
      seq: summary.exportSeq,
      name,
      ...(kind === "experiment" ? { experiment: await mlflow.experiments.getByName(name) } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    summary.locations = { ...summary.locations, ...assets.locations };
    // What the asset kinds carried drops off the list of what was not carried.
    const carried = new Set(kinds.flatMap((k) => CARRIES[k.name] ?? []));
    summary.notCarried = summary.notCarried.filter((n) => !carried.has(n.kind));
    for (const [table, location] of Object.entries(summary.locations))
      await catalog.addTable(shareName, exportName, table, location, { replace: true });
    return { ...summary, assets: assets.summaries, skipped: assets.skipped };
  }
}

/** The inventory kinds (src/mlflow/inventory.ts) each asset kind carries. */
const CARRIES: Record<string, string[]> = {
  traces: ["traces", "assessments"],
  datasets: ["evaluation datasets"],
  prompts: ["prompts"],
};

function emptySummary(schema: string): ExportSummary {
  return {
    kind: "prompt",
    schema,
    exportSeq: 1,
    runs: 0,
    changedRuns: 0,
    metricPoints: 0,
    artifactFiles: 0,
    artifactBytes: 0,
    loggedModels: 0,
    versions: 0,
    notCarried: [],
    locations: {},
  };
}

/** Opens an import source: a `profile#share.schema` coordinate, or loaded tables. */
export async function openSource(source: ImportSource, kind: ExportKind): Promise<ExportSource> {
  if (typeof source !== "string") return new LoadedExportSource(source, kind);
  const location = parseLocation(source);
  if (!location.share || !location.schema || location.table !== undefined) {
    throw new ArcuateError(
      "INVALID_PARAMETER_VALUE",
      `exchange: '${source}' is not a coordinate of an export; expected '<profile>#<share>.<schema>'`,
    );
  }
  const profile = await loadProfile(location.profile);
  return new SharedExportSource(
    new SharingClient(profile),
    location.share,
    location.schema,
    profile.endpoint,
  );
}

function describeValue(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  if (typeof value === "string") return `the string '${value}'`;
  if (typeof value !== "object") return typeof value;
  const name = value.constructor?.name;
  return name && name !== "Object" ? `a ${name}` : "a plain object";
}

function isMlflowClient(value: unknown): value is MlflowClient {
  if (typeof value !== "object" || value === null) return false;
  const client = value as Partial<MlflowClient>;
  return typeof client.trackingUri === "string" && typeof client.experiments === "object";
}
