// The MLflow 2.x peer (MLflow 2.22 from .venv-mlflow2, made by scripts/setup/mlflow2.mjs), started
// by the test files that need it, beside the global setup's MLflow 3 servers.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type MlflowServer, startMlflowServer } from "../../src/peers/mlflow-server.js";
import { PROJECT_ROOT } from "./paths.js";

export const MLFLOW2_BIN = join(PROJECT_ROOT, ".venv-mlflow2", "bin");
export const MLFLOW2_PYTHON = join(MLFLOW2_BIN, "python");

export async function startMlflow2Server(): Promise<MlflowServer & { close(): Promise<void> }> {
  if (!existsSync(join(MLFLOW2_BIN, "mlflow"))) {
    throw new Error(
      `the MLflow 2.x peer is missing: ${MLFLOW2_BIN}/mlflow; run 'npm run setup' (or 'npm test')`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), "arcuate-mlflow2-"));
  const server = await startMlflowServer({ dir, mlflowBin: join(MLFLOW2_BIN, "mlflow") });
  return {
    ...server,
    stop: () => server.stop(),
    close: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
