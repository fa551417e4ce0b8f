// The registered model both OpenSharing model tests share: an sklearn model logged through MLflow's
// own Python API (its predictions on the reference customers are the fidelity oracle), and a second
// version of the same logged model with an alias and descriptions, so versions, aliases and
// descriptions all have something to travel.
import { join } from "node:path";
import type { MlflowClient } from "../../src/mlflow/index.js";
import { PROJECT_ROOT } from "../support/paths.js";
import { runPythonScriptJson } from "../support/python.js";

/** Seeds `modelName` (versions 1 and 2, alias `Champion` → 2) and returns version 1's predictions. */
export async function seedRegisteredModel(
  provider: MlflowClient,
  providerUri: string,
  modelName: string,
): Promise<number[]> {
  const seeded = await runPythonScriptJson<{ predictions: number[]; model_id: string; run_id: string }>(
    join(PROJECT_ROOT, "python", "seed_sklearn_model.py"),
    { args: [providerUri, `${modelName}-exp`, modelName], timeoutMs: 300_000 },
  );
  await provider.versions.create(modelName, {
    source: `models:/${seeded.model_id}`,
    runId: seeded.run_id,
    modelId: seeded.model_id,
    description: "the same weights, promoted",
  });
  await provider.models.setAlias(modelName, "Champion", "2");
  await provider.models.setDescription(modelName, "churn classifier");
  return seeded.predictions;
}
