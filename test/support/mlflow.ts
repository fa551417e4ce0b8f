// The MLflow servers of the global setup, for tests that need them.
import { inject } from "vitest";

export function mlflowServers(): { provider: string; recipient: string; workDir: string } {
  const servers = inject("mlflow");
  if (!servers) throw new Error("MLflow servers were not started (ARCUATE_TEST_MLFLOW=0)");
  return servers;
}
