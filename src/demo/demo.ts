// `arcuate demo`: the provider → recipient story on this machine, under one working folder.
// Starts two MLflow tracking servers (the provider's and the recipient's) and arcuate's Delta
// Sharing server on loopback, executes notebooks/provider.ipynb and notebooks/recipient.ipynb
// headless on the arcuate kernel, renders them to HTML, and prints what was shared and imported.
// Everything stays in the working folder: the servers' stores, the share's tables, the profile,
// the executed notebooks.
import { existsSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { ArcuateError } from "../errors.js";
import { packageRoot } from "../kernel/paths.js";
import { runNotebook } from "../kernel/run-notebook.js";
import { MlflowClient } from "../mlflow/index.js";
import { type MlflowServer, startMlflowServer } from "../peers/mlflow-server.js";
import { Catalog } from "../sharing/catalog/catalog.js";
import { type SharingServer, startSharingServer } from "../sharing/server/server.js";

export interface DemoOptions {
  /** The working folder (default `demo` under the current folder); emptied first. */
  dir?: string;
  /** Leave the servers running for exploration (until Ctrl-C). */
  keep?: boolean;
  log?: (line: string) => void;
}

export interface DemoResult {
  dir: string;
  providerMlflow: string;
  recipientMlflow: string;
  sharingEndpoint: string;
  notebooks: string[];
  html: string[];
  importedRuns: number;
  importedVersions: number;
  /** Customers the recipient scored with the imported model, and whether every prediction equals the provider's. */
  scoring: { rows: number; allEqual: boolean } | null;
  stop(): Promise<void>;
}

const RECIPIENT = "partner_lab";

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const root = packageRoot();
  const mlflowBin = join(root, ".venv", "bin", "mlflow");
  // The notebooks train (provider) and serve (recipient) the model with the same Python peers.
  const python = join(root, ".venv", "bin", "python");
  if (!existsSync(mlflowBin)) {
    throw new ArcuateError(
      "RESOURCE_DOES_NOT_EXIST",
      `demo: ${mlflowBin} is missing; run 'npm run demo' (it installs the Python peers)`,
    );
  }
  const dir = resolve(options.dir ?? "demo");
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const workDir = join(dir, "provider");
  const servers: Array<MlflowServer | SharingServer> = [];
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= Promise.all(servers.map((s) => ("stop" in s ? s.stop() : s.close()))).then(() => {});
    return stopped;
  };
  try {
    log(`arcuate demo — working folder ${dir}`);
    log("starting two MLflow tracking servers (provider, recipient) …");
    const [provider, recipient] = await Promise.all([
      startMlflowServer({ dir: join(dir, "mlflow-provider"), mlflowBin }),
      startMlflowServer({ dir: join(dir, "mlflow-recipient"), mlflowBin }),
    ]);
    servers.push(provider, recipient);
    const catalog = await Catalog.open(workDir);
    const sharing = await startSharingServer({ catalog, host: "127.0.0.1", port: 0, log: () => {} });
    servers.push(sharing);
    await catalog.setEndpoint(sharing.url);
    log(`provider MLflow  ${provider.uri}`);
    log(`recipient MLflow ${recipient.uri}`);
    log(`sharing server   ${sharing.url}`);

    const notebooksDir = join(root, "notebooks");
    const outputDir = join(dir, "notebooks");
    log("running notebooks/provider.ipynb on the arcuate kernel …");
    const providerRun = await runNotebook({
      notebook: join(notebooksDir, "provider.ipynb"),
      outputDir,
      html: true,
      env: { MLFLOW_TRACKING_URI: provider.uri, ARCUATE_WORKDIR: workDir, ARCUATE_PYTHON: python },
    });
    const profile = catalog.profilePath(RECIPIENT);
    if (!existsSync(profile)) {
      throw new ArcuateError(
        "RESOURCE_DOES_NOT_EXIST",
        `demo: the provider notebook did not create recipient ${RECIPIENT} (no ${profile})`,
      );
    }
    log("running notebooks/recipient.ipynb on the arcuate kernel …");
    const recipientRun = await runNotebook({
      notebook: join(notebooksDir, "recipient.ipynb"),
      outputDir,
      html: true,
      env: {
        MLFLOW_TRACKING_URI: recipient.uri,
        ARCUATE_WORKDIR: join(dir, "recipient"),
        ARCUATE_PROFILE: profile,
        ARCUATE_PYTHON: python,
      },
    });

    const shares = await catalog.listShares();
    const mlflow = new MlflowClient({ trackingUri: recipient.uri });
    let importedRuns = 0;
    for await (const experiment of mlflow.experiments.searchAll()) {
      for await (const _run of mlflow.runs.searchAll({ experimentIds: [experiment.experiment_id] }))
        importedRuns++;
    }
    let importedVersions = 0;
    for await (const model of mlflow.models.searchAll())
      importedVersions += (await mlflow.versions.listAll(model.name)).length;

    log("");
    log("shared by the provider:");
    for (const share of shares) {
      const schemas = [...new Set(share.tables.map((t) => t.schema))];
      log(
        `  share ${share.name}: ${schemas.join(", ")} (${share.tables.length} tables), granted to ${share.recipients.join(", ") || "nobody"}`,
      );
    }
    log(`imported at the recipient: ${importedRuns} runs, ${importedVersions} model versions`);
    const scoringFile = join(dir, "recipient", "scoring.json");
    const scoring = existsSync(scoringFile)
      ? (JSON.parse(await readFile(scoringFile, "utf8")) as { rows: number; allEqual: boolean })
      : null;
    log(
      scoring === null
        ? "the recipient notebook did not score with the imported model"
        : scoring.allEqual
          ? `the imported model, served from the recipient's MLflow, predicts what the provider's did on all ${scoring.rows} reference customers`
          : `the imported model's predictions DIFFER from the provider's on the ${scoring.rows} reference customers`,
    );
    log("");
    log("look at:");
    log(`  ${recipient.uri}   the recipient's MLflow UI (imported experiment and model)`);
    log(`  ${provider.uri}   the provider's MLflow UI`);
    for (const file of [providerRun.html, recipientRun.html]) if (file) log(`  ${file}`);
    log(`  ${profile}   the recipient's profile file`);
    const result: DemoResult = {
      dir,
      providerMlflow: provider.uri,
      recipientMlflow: recipient.uri,
      sharingEndpoint: sharing.url,
      notebooks: [providerRun.notebook, recipientRun.notebook],
      html: [providerRun.html, recipientRun.html].filter((f): f is string => Boolean(f)),
      importedRuns,
      importedVersions,
      scoring,
      stop,
    };
    if (!options.keep) {
      await stop();
      log("servers stopped (run with --keep to leave them running); their data stays in the working folder.");
    }
    return result;
  } catch (error) {
    await stop();
    throw error;
  }
}
