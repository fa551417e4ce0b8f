// Settings a statement needs (the MLflow server) and how a failed statement is named: EXPLAIN is a
// plan without I/O, so it works with nothing set and shows what is unset; running without the
// setting is a configuration error naming the statement kind, raised before any step changes
// anything; and a failed long statement is named by the part of it that matters.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { ConfigurationError, ParseError } from "../../src/errors.js";
import { statementLabel } from "../../src/lang/executor.js";
import { createSession } from "../../src/lang/session.js";

let workDir: string;

beforeEach(() => {
  vi.stubEnv("MLFLOW_TRACKING_URI", undefined);
  workDir = mkdtempSync(join(tmpdir(), "arcuate-settings-"));
});

afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(workDir, { recursive: true, force: true });
});

it("EXPLAINs statements that need MLflow with no server set, saying it is not set", async () => {
  const session = createSession({ workDir });
  const [share, imported] = await session.execute(
    "EXPLAIN CREATE SHARE s WITH EXPERIMENT 'churn'; EXPLAIN CREATE OR REPLACE EXPERIMENT 'churn' USING SHARE 'p.share#s.churn'",
  );
  expect(share).toMatchObject({ kind: "plan" });
  expect(share && "text" in share ? share.text : "").toContain(
    "export experiment 'churn' from the MLflow server (not set yet: USE MLFLOW 'http://host:port' or MLFLOW_TRACKING_URI)",
  );
  expect(imported && "text" in imported ? imported.text : "").toContain("not set yet");
  expect(readdirSync(workDir)).toEqual([]);
});

it.each([
  ["CREATE SHARE s WITH EXPERIMENT 'churn'", "CREATE SHARE … WITH EXPERIMENT"],
  [
    "CREATE OR REPLACE EXPERIMENT 'churn' USING SHARE 'p.share#s.churn'",
    "CREATE OR REPLACE EXPERIMENT … USING SHARE",
  ],
  ["CREATE MODEL 'm' USING SHARE 'p.share#s.m'", "CREATE MODEL … USING SHARE"],
  ["ALTER SHARE s ADD MODEL 'm'", "ALTER SHARE … ADD MODEL"],
  ["REFRESH SHARE s", "REFRESH SHARE"],
])("running %s without a server is a configuration error, and changes nothing", async (statement, title) => {
  const session = createSession({ workDir });
  const failure = await session.execute(statement).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(ConfigurationError);
  expect(failure).not.toBeInstanceOf(ParseError);
  expect((failure as Error).message).toBe(
    `${title} needs an MLflow server: run USE MLFLOW 'http://host:port' first, or set MLFLOW_TRACKING_URI (arcuate run: --mlflow <uri>)`,
  );
  // CREATE SHARE's first step would have created the share: nothing ran
  expect(readdirSync(workDir)).toEqual([]);
});

it("names a failed statement whole, or by its start and its end, never hiding the coordinate", () => {
  const coordinate = "'/home/me/profiles/partner.share#churn_share.churn_experiment_2026_q4'";
  const short = `CREATE OR REPLACE EXPERIMENT 'churn' USING SHARE ${coordinate}`;
  expect(statementLabel(short)).toBe(short);
  const long = `CREATE OR REPLACE EXPERIMENT '${"/Users/someone/".repeat(12)}churn' USING SHARE ${coordinate}`;
  const label = statementLabel(long);
  expect(label).toContain(coordinate);
  expect(label).toMatch(/^CREATE OR REPLACE EXPERIMENT '\/Users\/someone\/.* … .*churn_experiment_2026_q4'$/);
  expect(label.length).toBeLessThan(long.length);
  expect(statementLabel("SHOW\n  SHARES")).toBe("SHOW SHARES");
});
