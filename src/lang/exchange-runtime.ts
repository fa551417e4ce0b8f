// The exchange's steps: exports from MLflow into a share (and REFRESH SHARE), and imports from a
// share into MLflow (src/exchange), with the one-line summaries they answer. A statement that
// creates a share and fails its first export drops the share again, so it can simply be rerun.
import { resolve } from "node:path";
import { DeltaTable } from "../delta/index.js";
import { ArcuateError } from "../errors.js";
import { importModelAsset } from "../exchange/import-model-asset.js";
import {
  type AssetsSummary,
  describeNotCarried,
  Exchange,
  type ExportSummary,
  type ImportSummary,
  sourceExperiment,
  sourceModel,
} from "../exchange/index.js";
import type { Runtime } from "./runtime.js";
import { coordinate, mlflowAt, modelClient, openCatalog, reporter } from "./runtime-clients.js";

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

export type ExchangeSteps = Pick<
  Runtime,
  | "validate"
  | "addExperimentToShare"
  | "addPromptToShare"
  | "addModelToShare"
  | "refreshShare"
  | "importExperiment"
  | "importPrompt"
  | "importModelAsset"
  | "importModel"
>;

/** The exchange's steps; `validate` remembers which shares the running statement creates. */
export function exchangeSteps(): ExchangeSteps {
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
  };
}
