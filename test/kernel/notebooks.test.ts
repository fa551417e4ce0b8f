// The demo notebooks, the whole provider → recipient story, executed headless on the arcuate
// kernel by nbclient against real peers: the two MLflow servers of the test setup and arcuate's
// Delta Sharing server serving the provider's working folder. Asserts on what the notebooks show
// (their HTML tables) and on what the recipient's MLflow holds afterwards.
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  cellHtml,
  cellText,
  type ExecutedCell,
  type ExecutedNotebook,
  htmlTableRows,
  installKernel,
  type KernelInstall,
  runNotebook,
} from "../support/jupyter.js";
import { mlflowServers } from "../support/mlflow.js";
import { PROJECT_ROOT } from "../support/paths.js";
import { runPythonJson } from "../support/python.js";
import { startTestSharingServer, type TestSharingServer } from "../support/sharing-server.js";

const NOTEBOOKS = join(PROJECT_ROOT, "notebooks");
const PYTHON = join(PROJECT_ROOT, ".venv", "bin", "python");

let install: KernelInstall;
let folder: string;
let sharing: TestSharingServer;

beforeAll(async () => {
  install = await installKernel();
  folder = await mkdtemp(join(tmpdir(), "arcuate-notebooks-"));
  // The provider's working folder is the catalog the sharing server serves (as in `arcuate demo`).
  sharing = await startTestSharingServer({ dir: join(folder, "provider") });
});

afterAll(async () => {
  await sharing?.close();
  await install?.dispose();
  if (folder) await rm(folder, { recursive: true, force: true });
});

/** The rows (header first) of the table a cell shows. */
function table(cell: ExecutedCell | undefined): string[][] {
  const html = cellHtml(cell!).find((h) => h.includes("<table"));
  return htmlTableRows(html ?? "");
}

/**
 * The chart a PLOT cell shows: its Vega-Lite spec's runs (one colour each), and the number of
 * lines in the SVG rendered beside it.
 */
function chart(cell: ExecutedCell | undefined): { runs: string[]; svgLines: number; text: string } {
  const output = cell?.outputs.find((o) => o.data?.["application/vnd.vegalite.v5+json"] !== undefined);
  const data = (output?.data ?? {}) as Record<string, unknown>;
  const spec = data["application/vnd.vegalite.v5+json"] as
    | { data: { values: { run: string }[] } }
    | undefined;
  const svg = String(data["image/svg+xml"] ?? "");
  return {
    runs: [...new Set((spec?.data.values ?? []).map((v) => v.run))].sort(),
    svgLines: (svg.match(/aria-roledescription="line mark"/g) ?? []).length,
    text: String(data["text/plain"] ?? ""),
  };
}

const SWEEP = ["sweep-lr-0.03", "sweep-lr-0.1", "sweep-lr-0.3"];

/** The code cell whose source starts with `start`. */
function cell(nb: ExecutedNotebook, start: string): ExecutedCell | undefined {
  return nb.cells.find((c) => c.source.startsWith(start));
}

it("shares an experiment and a model from the provider's notebook and imports them in the recipient's", async () => {
  const { provider, recipient } = mlflowServers();
  const manifest = JSON.parse(await readFile(join(NOTEBOOKS, "provider.ipynb"), "utf8")) as {
    metadata: { kernelspec: { name: string } };
  };
  expect(manifest.metadata.kernelspec.name).toBe("arcuate");

  const providerNb = await runNotebook(install, join(NOTEBOOKS, "provider.ipynb"), {
    cwd: folder,
    saveTo: join(folder, "provider.ipynb"),
    env: { MLFLOW_TRACKING_URI: provider, ARCUATE_WORKDIR: sharing.dir, ARCUATE_PYTHON: PYTHON },
  });
  expect(providerNb.error).toBeNull();
  const logged = table(
    providerNb.cells.find((c) => cellHtml(c).some((h) => h.includes("<caption>logged runs"))),
  );
  const runIds = logged.slice(1).map((row) => row[0]!);
  expect(logged.slice(1).map((row) => row[1])).toEqual(["0.3", "0.1", "0.03"]);
  const providerChart = chart(cell(providerNb, "%arcuate PLOT METRIC loss FROM EXPERIMENT"));
  expect(providerChart.runs).toEqual(SWEEP);
  expect(providerChart.svgLines).toBe(3);
  expect(providerChart.text).toContain("one line per run (3 runs, 60 points)");
  const shared = table(cell(providerNb, "%arcuate SHOW TABLES IN SHARE"));
  expect(shared.slice(1).map((row) => `${row[0]}.${row[1]}`)).toEqual(
    expect.arrayContaining([
      "churn_experiment.runs",
      "churn_experiment.metrics",
      "churn_experiment.artifacts",
      "churn_model.versions",
    ]),
  );
  expect(
    table(cell(providerNb, "%arcuate SHOW GRANTS"))
      .slice(1)
      .map((row) => row.slice(0, 2)),
  ).toEqual([["churn_share", "partner_lab"]]);
  const profile = sharing.catalog.profilePath("partner_lab");
  expect(existsSync(profile)).toBe(true);
  expect(cellText(cell(providerNb, "%%arcuate\nCREATE RECIPIENT")!)).toContain(profile);

  const recipientNb = await runNotebook(install, join(NOTEBOOKS, "recipient.ipynb"), {
    cwd: folder,
    saveTo: join(folder, "recipient.ipynb"),
    env: {
      MLFLOW_TRACKING_URI: recipient,
      ARCUATE_PROFILE: profile,
      ARCUATE_WORKDIR: join(folder, "recipient"),
      ARCUATE_PYTHON: PYTHON,
    },
  });
  expect(recipientNb.error).toBeNull();
  expect(table(cell(recipientNb, "%arcuate SHOW SHARES IN"))).toEqual([["share"], ["churn_share"]]);
  const preview = table(cell(recipientNb, "%arcuate SELECT run_name"));
  expect(preview[0]).toEqual(["run_name", "status", "params", "latest_metrics"]);
  expect(
    preview
      .slice(1)
      .map((row) => row[0])
      .sort(),
  ).toEqual(["sweep-lr-0.03", "sweep-lr-0.1", "sweep-lr-0.3"]);
  const loss = table(cell(recipientNb, "%%arcuate\nSELECT run_id, key"));
  expect(loss.length).toBe(11);
  expect(new Set(loss.slice(1).map((row) => row[1]))).toEqual(new Set(["loss"]));
  // The loss curves drawn from the share before the import, and from our MLflow after it.
  for (const plot of [
    "%arcuate PLOT METRIC loss FROM 'churn_share",
    "%arcuate PLOT METRIC loss FROM EXPERIMENT",
  ]) {
    const drawn = chart(cell(recipientNb, plot));
    expect(drawn.runs, plot).toEqual(SWEEP);
    expect(drawn.svgLines, plot).toBe(3);
    expect(drawn.text, plot).toContain("sweep-lr-0.03: 20 points");
  }
  expect(cellText(cell(recipientNb, "%arcuate CREATE OR REPLACE EXPERIMENT")!)).toMatch(/3 runs/);
  const imported = table(
    recipientNb.cells.find((c) => cellHtml(c).some((h) => h.includes("<caption>imported runs"))),
  );
  expect(
    imported
      .slice(1)
      .map((row) => row[4])
      .sort(),
  ).toEqual([...runIds].sort());

  // What the recipient's MLflow holds, read with MLflow's own Python client.
  const held = await runPythonJson<{
    runs: [string, string, number][];
    champion: string;
    sourceRuns: string[];
  }>(
    `import json, sys
from mlflow import MlflowClient
client = MlflowClient(sys.argv[1])
experiment = client.get_experiment_by_name("churn-prediction")
runs = client.search_runs([experiment.experiment_id])
version = client.get_model_version_by_alias("churn-classifier", "champion")
print(json.dumps({
  "runs": sorted([r.info.run_name, r.data.params["learning_rate"], len(client.get_metric_history(r.info.run_id, "loss"))] for r in runs),
  "champion": version.version,
  "sourceRuns": sorted(r.data.tags["arcuate.source.run_id"] for r in runs)}))`,
    { args: [recipient] },
  );
  expect(held.runs).toEqual([
    ["sweep-lr-0.03", "0.03", 20],
    ["sweep-lr-0.1", "0.1", 20],
    ["sweep-lr-0.3", "0.3", 20],
  ]);
  expect(held.champion).toBe("1");

  // The imported scikit-learn model, served by `mlflow models serve` from our MLflow, scores the
  // provider's reference customers exactly as the provider's model did.
  const scored = table(
    recipientNb.cells.find((c) => cellHtml(c).some((h) => h.includes("<caption>churn probability of"))),
  );
  expect(scored[0]).toEqual(["customer", "provider", "ours", "equal"]);
  expect(scored.slice(1).map((row) => row[3])).toEqual(["true", "true", "true", "true", "true"]);
  expect(JSON.parse(await readFile(join(folder, "recipient", "scoring.json"), "utf8"))).toEqual({
    rows: 5,
    allEqual: true,
  });
  expect(held.sourceRuns).toEqual([...runIds].sort());
}, 600_000);
