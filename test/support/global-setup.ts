// vitest global setup: the two MLflow tracking servers every integration test may use, the
// provider's and the recipient's, each with its own SQLite store and artifact folder, on free
// loopback ports. Tests read their URIs with inject("mlflow"). They are stopped when the run ends,
// also after failures; an interrupted run (SIGINT/SIGTERM) stops them too.
// ARCUATE_TEST_MLFLOW=0 skips them for quick loops over tests that do not need MLflow.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { type MlflowServer, startMlflowServer } from "../../src/peers/mlflow-server.js";
import { requireVenv, VENV_BIN } from "./paths.js";

declare module "vitest" {
  export interface ProvidedContext {
    mlflow: { provider: string; recipient: string; workDir: string } | null;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.ARCUATE_TEST_MLFLOW === "0") {
    project.provide("mlflow", null);
    return async () => {};
  }
  requireVenv();
  const workDir = mkdtempSync(join(tmpdir(), "arcuate-test-"));
  const mlflowBin = join(VENV_BIN, "mlflow");
  const servers: MlflowServer[] = await Promise.all([
    startMlflowServer({ dir: join(workDir, "provider"), mlflowBin }),
    startMlflowServer({ dir: join(workDir, "recipient"), mlflowBin }),
  ]);
  const stopAll = async () => {
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(workDir, { recursive: true, force: true });
  };
  const onSignal = () => {
    void stopAll().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  project.provide("mlflow", { provider: servers[0]!.uri, recipient: servers[1]!.uri, workDir });
  return async () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await stopAll();
  };
}
