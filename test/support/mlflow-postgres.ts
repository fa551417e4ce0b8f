// MLflow servers on PostgreSQL for the test files that run against both backends: one
// PostgreSQL cluster and a provider and a recipient server with MLflow's default workers,
// started in the beforeAll of the files that need them (targeted runs of other files stay light)
// and stopped in their afterAll.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type PostgresMlflow, startPostgresMlflow } from "../../src/peers/mlflow-postgres.js";
import { requireVenv, VENV_BIN } from "./paths.js";

export interface TestMlflowPair {
  provider: string;
  recipient: string;
  stop(): Promise<void>;
}

export async function startPostgresMlflowPair(): Promise<TestMlflowPair> {
  requireVenv();
  const dir = mkdtempSync(join(tmpdir(), "arcuate-test-pg-mlflow-"));
  let peers: PostgresMlflow;
  try {
    peers = await startPostgresMlflow({
      dir,
      mlflowBin: join(VENV_BIN, "mlflow"),
      names: ["provider", "recipient"],
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const [provider, recipient] = peers.servers;
  return {
    provider: provider!.uri,
    recipient: recipient!.uri,
    stop: async () => {
      await peers.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
