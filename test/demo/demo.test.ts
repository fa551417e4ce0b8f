// `arcuate demo` end to end, as a newcomer runs it: its own MLflow servers and sharing server,
// both notebooks executed on the kernel and rendered to HTML. The rendered recipient notebook is
// then opened in headless Chromium (Debian's, installed by `npm test`'s set-up): its tables must
// be there in the page the browser built, and a screenshot is saved next to it.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type DemoResult, runDemo } from "../../src/demo/demo.js";
import { MlflowClient } from "../../src/mlflow/index.js";
import { buildPackage } from "../support/jupyter.js";

const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--hide-scrollbars",
];

function chromium(args: string[]): string {
  const profile = mkdtempSync(join(tmpdir(), "arcuate-chromium-"));
  try {
    return execFileSync("chromium", [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, ...args], {
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 120_000,
    });
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

let result: DemoResult | undefined;
const dir = mkdtempSync(join(tmpdir(), "arcuate-demo-"));

afterAll(async () => {
  await result?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("arcuate demo", () => {
  it("runs the provider → recipient story and renders notebooks whose tables show in a browser", async () => {
    await buildPackage();
    const lines: string[] = [];
    result = await runDemo({ dir, log: (line) => lines.push(line) });
    expect(lines.join("\n")).toContain("share churn_share: churn_experiment, churn_model");
    expect(result.importedRuns).toBe(3);
    expect(result.importedVersions).toBe(1);
    // The recipient served the imported scikit-learn model and got the provider's predictions.
    expect(result.scoring).toEqual({ rows: 5, allEqual: true });
    expect(lines.join("\n")).toContain("predicts what the provider's did on all 5 reference customers");
    const recipientHtml = result.html.find((file) => file.endsWith("recipient.html"))!;
    expect(existsSync(recipientHtml)).toBe(true);
    // The servers are stopped; their data stays in the working folder.
    await expect(
      new MlflowClient({ trackingUri: result.recipientMlflow, maxRetries: 0 }).healthy(),
    ).resolves.toBe(false);
    expect(existsSync(join(dir, "mlflow-recipient", "mlflow.db"))).toBe(true);

    expect(
      execFileSync("sh", ["-c", "command -v chromium || true"], { encoding: "utf8" }).trim(),
      "Debian's chromium (npm test installs it as root)",
    ).not.toBe("");
    const dom = chromium(["--dump-dom", `file://${recipientHtml}`]);
    const tables = dom.match(/<table[\s\S]*?<\/table>/g) ?? [];
    expect(tables.length).toBeGreaterThanOrEqual(4);
    const text = tables.join("\n");
    for (const expected of ["churn_share", "churn_experiment", "sweep-lr-0.03", "loss", "champion"])
      expect(text).toContain(expected);

    const screenshot = recipientHtml.replace(/\.html$/, ".png");
    chromium(["--window-size=1280,2400", `--screenshot=${screenshot}`, `file://${recipientHtml}`]);
    expect(statSync(screenshot).size).toBeGreaterThan(20_000);
    expect(readFileSync(screenshot).subarray(1, 4).toString()).toBe("PNG");
  }, 900_000);
});
