// What a tracking server supports, found out once per client by asking it: MLflow 2.x servers
// (2.22 is still widely run) lack MLflow 3's logged models, run outputs and GenAI endpoints, and
// answer their routes with an HTML 404 page. Callers ask `capabilities()` instead of guessing
// from errors, and carry what the server can hold.
import { type Http, MlflowError } from "./http.js";

export interface ServerCapabilities {
  /** MLflow's version as `GET /version` reports it, e.g. "2.22.5"; undefined when not served. */
  version: string | undefined;
  /** MLflow 3 logged models (`/mlflow/logged-models`), and with them run outputs and model inputs. */
  loggedModels: boolean;
  /** MLflow 3 trace search (`/api/3.0/mlflow/traces/search`), with assessments. */
  tracesV3: boolean;
  /** MLflow 2 trace listing (`GET /api/2.0/mlflow/traces`). */
  tracesV2: boolean;
  /** MLflow 3 evaluation datasets (`/api/3.0/mlflow/datasets/search`). */
  evaluationDatasets: boolean;
}

/** The major version of an MLflow version string ("2.22.5" → 2), or undefined. */
export function majorVersion(capabilities: ServerCapabilities): number | undefined {
  const major = Number.parseInt(capabilities.version ?? "", 10);
  return Number.isFinite(major) ? major : undefined;
}

/**
 * True when the server routes the endpoint: any reply but a 404 without MLflow's error JSON (a
 * route MLflow lacks gets Flask's HTML page; a missing object gets `RESOURCE_DOES_NOT_EXIST`).
 * Auth and connection errors are thrown: they say nothing about the endpoint.
 */
async function routes(probe: () => Promise<unknown>): Promise<boolean> {
  try {
    await probe();
    return true;
  } catch (error) {
    if (!(error instanceof MlflowError)) throw error;
    if (error.code === "CONNECTION_FAILED" || error.code === "UNAUTHENTICATED") throw error;
    if (error.code === "PERMISSION_DENIED") throw error;
    return !(error.mlflowErrorCode === undefined && (error.httpStatus === 404 || error.httpStatus === 405));
  }
}

export async function probeCapabilities(http: Http): Promise<ServerCapabilities> {
  const version = await http
    .send("GET", "/version", { retry: false, timeoutMs: 30_000 })
    .then((response) => response.text())
    .then((text) => (/^\d+\.\d+/.test(text.trim()) ? text.trim() : undefined))
    .catch((error: unknown) => {
      if (error instanceof MlflowError && error.code === "CONNECTION_FAILED") throw error;
      return undefined;
    });
  const [loggedModels, tracesV3, tracesV2, evaluationDatasets] = await Promise.all([
    routes(() => http.call("GET", "/mlflow/logged-models/m-arcuate-capability-probe")),
    routes(() =>
      http.call("POST", "/mlflow/traces/search", { api: "rest3", body: { locations: [], max_results: 1 } }),
    ),
    routes(() => http.call("GET", "/mlflow/traces", { query: { experiment_ids: [], max_results: 1 } })),
    routes(() => http.call("POST", "/mlflow/datasets/search", { api: "rest3", body: { max_results: 1 } })),
  ]);
  return { version, loggedModels, tracesV3, tracesV2, evaluationDatasets };
}
