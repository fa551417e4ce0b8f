// Both demo notebooks as a person uses them: opened in JupyterLab in Chromium, all cells run,
// and then what the page shows is checked: HTML tables with their rows, charts drawn with one line
// per run, Tab completion in a %arcuate cell offering a share and a column, and a failing
// statement shown with its caret line while the cells after it still run. Own MLflow servers (the
// notebooks create experiments by name) and arcuate's sharing server; screenshots are saved in
// .work/jupyterlab/ for a person to look at.
import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MlflowServer, startMlflowServer } from "../../src/peers/mlflow-server.js";
import { installKernel, type KernelInstall } from "../support/jupyter.js";
import { PROJECT_ROOT } from "../support/paths.js";
import { startTestSharingServer, type TestSharingServer } from "../support/sharing-server.js";
import { type JupyterLab, launchChromium, startJupyterLab } from "./jupyterlab-server.js";

const SCREENSHOTS = join(PROJECT_ROOT, ".work", "jupyterlab");
const PYTHON = join(PROJECT_ROOT, ".venv", "bin", "python");
const SWEEP = ["sweep-lr-0.03", "sweep-lr-0.1", "sweep-lr-0.3"];

/** The loss chart of the sweep as JupyterLab draws it, `from` as its title names the source. */
function lossChart(from: string) {
  return { lines: 3, legend: SWEEP, axes: ["loss", "step"], title: [`loss in ${from}`] };
}

let install: KernelInstall;
let folder: string;
let sharing: TestSharingServer;
let mlflow: MlflowServer[] = [];
let browser: Browser;
const labs: JupyterLab[] = [];

beforeAll(async () => {
  install = await installKernel();
  folder = await mkdtemp(join(tmpdir(), "arcuate-jupyterlab-nb-"));
  for (const name of ["provider.ipynb", "recipient.ipynb"])
    await copyFile(join(PROJECT_ROOT, "notebooks", name), join(folder, name));
  const mlflowBin = join(PROJECT_ROOT, ".venv", "bin", "mlflow");
  mlflow = await Promise.all(
    ["provider", "recipient"].map((side) =>
      startMlflowServer({ dir: join(folder, `mlflow-${side}`), mlflowBin }),
    ),
  );
  sharing = await startTestSharingServer({ dir: join(folder, "provider") });
  browser = await launchChromium();
  await mkdir(SCREENSHOTS, { recursive: true });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  for (const lab of labs) await lab.stop();
  await sharing?.close();
  await Promise.all(mlflow.map((server) => server.stop()));
  await install?.dispose();
  if (folder) await rm(folder, { recursive: true, force: true });
});

// Browser-side code is written as strings: this project's TypeScript has no DOM types.
const APP = "window.jupyterapp";

/** Opens a notebook in the lab, runs all its cells and waits until every code cell ran. */
async function openAndRunAll(lab: JupyterLab, notebook: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await page.goto(lab.url(`lab/tree/${notebook}`));
  await page.waitForSelector(".jp-Notebook .jp-CodeCell", { timeout: 120_000 });
  // The kernel has started and is idle.
  await page.evaluate(`${APP}.shell.currentWidget.sessionContext.ready`);
  await page.waitForFunction(
    `${APP}.shell.currentWidget.sessionContext.session?.kernel?.status === "idle"`,
    null,
    {
      timeout: 120_000,
      polling: 500,
    },
  );
  await page.evaluate(`${APP}.commands.execute("notebook:run-all-cells")`);
  await waitForAllRun(page, 600_000);
  return page;
}

/** Waits until every code cell shows an execution count (none is queued or running). */
async function waitForAllRun(page: Page, timeout: number): Promise<void> {
  await page.waitForFunction(
    `(() => {
      const prompts = [...document.querySelectorAll(".jp-Notebook .jp-CodeCell .jp-InputPrompt")].map((p) => p.textContent ?? "");
      return prompts.length > 0 && prompts.every((p) => /\\[\\d+\\]/.test(p));
    })()`,
    null,
    { timeout, polling: 1000 },
  );
}

interface Seen {
  tables: { caption: string; rows: string[][] }[];
  charts: { lines: number; legend: string[]; axes: string[]; title: string[] }[];
  errors: string[];
}

/** What the page shows: each arcuate table's caption and rows, each chart's lines per SVG. */
function seen(page: Page): Promise<Seen> {
  return page.evaluate(`({
    tables: [...document.querySelectorAll(".jp-OutputArea-output table.arcuate-table")].map((table) => ({
      caption: table.querySelector("caption")?.textContent ?? "",
      rows: [...table.querySelectorAll("tbody tr")].map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")),
    })),
    // JupyterLab ranks its Vega renderer (@jupyterlab/vega5-extension) above image/svg+xml, so
    // it draws the Vega-Lite spec itself: vega-embed's SVG inside a .jp-RenderedVegaLite output.
    charts: [...document.querySelectorAll(".jp-OutputArea-output.jp-RenderedVegaLite")].map((output) => {
      const svg = output.querySelector(".vega-embed svg.marks");
      const texts = (selector) => svg ? [...svg.querySelectorAll(selector)].map((t) => t.textContent ?? "") : [];
      return {
        lines: svg ? svg.querySelectorAll(".mark-line.role-mark path").length : 0,
        legend: texts(".role-legend-label text"),
        axes: texts(".role-axis-title text").sort(),
        title: texts(".role-title-text text"),
      };
    }),
    errors: [...document.querySelectorAll(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")]
      .map((e) => e.textContent ?? "")
      .filter((text) => /Error/.test(text)),
  })`) as Promise<Seen>;
}

/** Puts the cursor in a new cell at the end of the notebook, in edit mode. */
async function newCellAtEnd(page: Page): Promise<void> {
  await page.evaluate(`(async () => {
    const notebook = ${APP}.shell.currentWidget.content;
    notebook.activeCellIndex = notebook.widgets.length - 1;
    await ${APP}.commands.execute("notebook:insert-cell-below");
  })()`);
  await page.locator(".jp-Notebook .jp-Cell").last().locator(".cm-content").click();
}

/** Tab at the cursor; the labels the completer popup lists. */
async function completions(page: Page): Promise<string[]> {
  await page.keyboard.press("Tab");
  const completer = page.locator(".jp-Completer");
  await completer.waitFor({ state: "visible", timeout: 30_000 });
  const labels = await completer.locator(".jp-Completer-item .jp-Completer-match").allTextContents();
  return labels.map((label) => label.trim());
}

/** The output of the arcuate table whose caption holds `caption`. */
function tableOutput(page: Page, caption: string): Locator {
  return page
    .locator(".jp-OutputArea-output")
    .filter({ has: page.locator("table.arcuate-table > caption", { hasText: caption }) })
    .first();
}

/** The `index`-th chart JupyterLab drew. */
function chartOutput(page: Page, index: number): Locator {
  return page.locator(".jp-OutputArea-output.jp-RenderedVegaLite").nth(index);
}

/**
 * Saves a screenshot of one output, scrolled into view (the notebook scrolls inside its panel,
 * so a page screenshot shows only what is on screen).
 */
async function shoot(output: Locator, name: string): Promise<void> {
  await output.screenshot({ path: join(SCREENSHOTS, name), timeout: 30_000 });
}

describe("the demo notebooks in JupyterLab", () => {
  it("show tables, draw charts, complete names and keep running after a failing statement", async () => {
    const [provider, recipient] = mlflow as [MlflowServer, MlflowServer];

    const providerLab = await startJupyterLab(folder, {
      ...install.env,
      MLFLOW_TRACKING_URI: provider.uri,
      ARCUATE_WORKDIR: sharing.dir,
      ARCUATE_PYTHON: PYTHON,
    });
    labs.push(providerLab);
    const providerPage = await openAndRunAll(providerLab, "provider.ipynb");
    const providerSeen = await seen(providerPage);
    await shoot(chartOutput(providerPage, 0), "provider-chart.png");
    await shoot(tableOutput(providerPage, "logged runs"), "provider-runs.png");
    expect(providerSeen.errors).toEqual([]);
    const logged = providerSeen.tables.find((t) => t.caption === "logged runs");
    expect(logged?.rows.map((row) => row[1])).toEqual(["0.3", "0.1", "0.03"]);
    expect(providerSeen.tables.some((t) => t.rows.some((row) => row.includes("churn_share")))).toBe(true);
    // The loss curves drawn: a line per run, named in the legend, with the axes' and chart's titles.
    expect(providerSeen.charts).toEqual([lossChart("experiment 'churn-prediction'")]);
    await providerPage.close();
    await providerLab.stop();

    const recipientLab = await startJupyterLab(folder, {
      ...install.env,
      MLFLOW_TRACKING_URI: recipient.uri,
      ARCUATE_PROFILE: sharing.catalog.profilePath("partner_lab"),
      ARCUATE_WORKDIR: join(folder, "recipient"),
      ARCUATE_PYTHON: PYTHON,
    });
    labs.push(recipientLab);
    const page = await openAndRunAll(recipientLab, "recipient.ipynb");
    const recipientSeen = await seen(page);
    await shoot(chartOutput(page, 0), "recipient-chart-shared.png");
    await shoot(chartOutput(page, 1), "recipient-chart-imported.png");
    await shoot(tableOutput(page, "churn_share.churn_experiment.runs"), "recipient-preview.png");
    await shoot(tableOutput(page, "churn probability of"), "recipient-predictions.png");
    expect(recipientSeen.errors).toEqual([]);
    const preview = recipientSeen.tables.find((t) => t.caption === "churn_share.churn_experiment.runs");
    expect(preview?.rows.map((row) => row[0]).sort()).toEqual(SWEEP);
    const scored = recipientSeen.tables.find((t) => t.caption.startsWith("churn probability of"));
    expect(scored?.rows.map((row) => row[3])).toEqual(["true", "true", "true", "true", "true"]);
    // Drawn from the share before the import, and from our MLflow after it.
    expect(recipientSeen.charts).toEqual([
      lossChart("churn_share.churn_experiment"),
      lossChart("experiment 'churn-prediction'"),
    ]);

    // Tab in a %arcuate cell: a share of the profile, then a column of the table the SELECT names.
    await newCellAtEnd(page);
    await page.keyboard.type("%arcuate SHOW TABLES IN ");
    expect(await completions(page)).toContain("'churn_share'");
    await page.screenshot({ path: join(SCREENSHOTS, "completion-share.png") });
    await page.keyboard.press("Escape");
    await page.keyboard.press("Control+A");
    const from = " FROM 'churn_share.churn_experiment.runs'";
    await page.keyboard.type(`%arcuate SELECT run_${from}`);
    for (let i = 0; i < from.length; i++) await page.keyboard.press("ArrowLeft");
    expect(await completions(page)).toEqual(expect.arrayContaining(["run_id", "run_name"]));
    await page.screenshot({ path: join(SCREENSHOTS, "completion-column.png") });
    await page.keyboard.press("Escape");

    // A failing statement shows its caret line; the cell after it still runs.
    await page.keyboard.press("Control+A");
    await page.keyboard.type(
      "%arcuate SELECT * FROM 'churn_share.churn_experiment.runs' WHER status = 'FINISHED'",
    );
    await page.keyboard.press("Shift+Enter");
    const failed = page.locator(".jp-Notebook .jp-CodeCell").filter({ hasText: "WHER status" }).last();
    const error = failed.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']");
    await error.waitFor({ timeout: 60_000 });
    const errorText = (await error.textContent()) ?? "";
    expect(errorText).toContain("syntax error at line 1");
    expect(errorText).toMatch(/\n\s*\|\s+\^+/);
    await page.keyboard.type("%arcuate SHOW SHARES IN :profile");
    await page.keyboard.press("Shift+Enter");
    // Shift-Enter on the last cell adds an empty one below it, which never runs: wait for this one.
    const after = page
      .locator(".jp-Notebook .jp-CodeCell")
      .filter({ hasText: "SHOW SHARES IN :profile" })
      .last()
      .locator("table.arcuate-table");
    await after.waitFor({ timeout: 120_000 });
    expect(await after.locator("tbody td").allTextContents()).toEqual(["churn_share"]);
    await failed.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SCREENSHOTS, "error-and-after.png") });
    await page.close();
  }, 1_500_000);
});
