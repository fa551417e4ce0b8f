// The asset kinds of the exchange, one module each (its columns, its export, its import):
// runs.ts, metrics.ts, artifacts.ts, logged-models.ts, versions.ts (the run family, ordered by
// ../export.ts and ../import.ts, sharing the recipient's id maps of targets.ts), and traces/,
// datasets.ts, prompts.ts (AssetKind implementations, run in order by the two loops below).
// rows.ts and fields.ts are what every kind shares: row batching and column builders.
import type { Experiment, MlflowClient } from "../../mlflow/index.js";
import type { ProgressEvent } from "../export.js";
import type { ExportKind } from "../format.js";
import type { ExportSource } from "../source.js";
import { ExportTable, exportLocation, lastExportSeq } from "../tables.js";
import type { AssetKind, AssetSummary } from "./asset.js";
import { datasetsAsset } from "./datasets.js";
import { promptsAsset } from "./prompts.js";
import { tracesAsset } from "./traces/index.js";

export type { AssetExportContext, AssetImportContext, AssetKind, AssetSummary } from "./asset.js";
export { datasetsAsset, TAG_SOURCE_DATASET } from "./datasets.js";
export { promptsAsset, TAG_SOURCE_PROMPT } from "./prompts.js";
export {
  META_SOURCE_EXPERIMENT,
  META_SOURCE_MODEL,
  META_SOURCE_RUN,
  splitText,
  tracesAsset,
} from "./traces/index.js";

/** The asset kinds an experiment export carries beyond its runs, in export order. */
export function experimentAssets(options: { traces?: boolean } = {}): AssetKind[] {
  return options.traces === false ? [datasetsAsset] : [tracesAsset, datasetsAsset];
}
export const PROMPT_ASSETS: readonly AssetKind[] = [promptsAsset];

export interface AssetsResult {
  summaries: Record<string, AssetSummary>;
  skipped: string[];
  locations: Record<string, string>;
}

/** Exports each kind into its tables of the export's schema; one export sequence number for all. */
export async function exportAssets(
  kinds: readonly AssetKind[],
  context: {
    mlflow: MlflowClient;
    kind: ExportKind;
    target: { workDir: string; share: string; schema: string };
    seq: number;
    experiment?: Experiment;
    name: string;
    onProgress?: (event: ProgressEvent) => void;
  },
): Promise<AssetsResult> {
  const result: AssetsResult = { summaries: {}, skipped: [], locations: {} };
  const tables = new Map<string, ExportTable>();
  for (const kind of kinds) {
    for (const name of kind.tables) {
      const { workDir, share, schema } = context.target;
      tables.set(name, new ExportTable(exportLocation(workDir, share, schema, name), context.kind, name));
    }
  }
  // Above every number these tables hold: a number is never reused for another export.
  const seq = Math.max(context.seq, (await lastExportSeq([...tables.values()])) + 1);
  for (const kind of kinds) {
    const own = Object.fromEntries(kind.tables.map((name) => [name, tables.get(name)!]));
    const summary = await kind.export({
      mlflow: context.mlflow,
      tables: own,
      seq,
      name: context.name,
      ...(context.experiment ? { experiment: context.experiment } : {}),
      ...(context.onProgress ? { onProgress: context.onProgress } : {}),
    });
    result.summaries[kind.name] = summary;
    result.skipped.push(...summary.skipped);
    if (summary.skipped.length > 0 && !(await own[kind.tables[0]!]!.open())) continue;
    for (const [name, table] of Object.entries(own)) {
      await table.create(seq);
      result.locations[name] = table.location;
    }
  }
  for (const message of result.skipped) context.onProgress?.({ step: "skipped", message });
  return result;
}

/** Imports each kind from the export, in order. */
export async function importAssets(
  kinds: readonly AssetKind[],
  context: {
    mlflow: MlflowClient;
    source: ExportSource;
    experiment?: Experiment;
    name: string;
    replace?: boolean;
    concurrency?: number;
    onProgress?: (event: ProgressEvent) => void;
  },
): Promise<Omit<AssetsResult, "locations">> {
  const result = { summaries: {} as Record<string, AssetSummary>, skipped: [] as string[] };
  for (const kind of kinds) {
    const summary = await kind.import({
      mlflow: context.mlflow,
      source: context.source,
      name: context.name,
      replace: context.replace ?? false,
      concurrency: context.concurrency ?? 4,
      ...(context.experiment ? { experiment: context.experiment } : {}),
      ...(context.onProgress ? { onProgress: context.onProgress } : {}),
    });
    result.summaries[kind.name] = summary;
    result.skipped.push(...summary.skipped);
  }
  for (const message of result.skipped) context.onProgress?.({ step: "skipped", message });
  return result;
}
