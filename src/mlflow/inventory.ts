// Counts of what an experiment holds beyond runs: traces and their assessments, evaluation
// datasets, linked prompts, deleted runs. The exchange reports what its export does not carry
// from these, so nothing is dropped without a word. Counting only: the records themselves are
// read by the modules that carry them.
import type { ServerCapabilities } from "./capabilities.js";
import type { Http } from "./http.js";
import type { Tag } from "./types.js";

/** Traces, deleted runs, assessments… of an experiment, by kind (kinds with none left out). */
export type Holdings = Map<string, number>;

const PAGE = 500;
/** A model of the registry is a prompt when it carries this tag (MLflow's prompt registry). */
export const PROMPT_TAG = "mlflow.prompt.is_prompt";
/** Where MLflow records the experiments a prompt is linked to: ",1,7,". */
const PROMPT_EXPERIMENTS_TAG = "_mlflow_experiment_ids";

export class Inventory {
  constructor(private readonly http: Http) {}

  /** What the experiment holds that is not a run, a metric, an artifact or a logged model. */
  async experiment(experimentId: string, capabilities: ServerCapabilities): Promise<Holdings> {
    const holdings: Holdings = new Map();
    const add = (kind: string, count: number) => {
      if (count > 0) holdings.set(kind, (holdings.get(kind) ?? 0) + count);
    };
    const [traces, datasets, prompts, deleted] = await Promise.all([
      this.traces(experimentId, capabilities),
      capabilities.evaluationDatasets ? this.evaluationDatasets(experimentId) : 0,
      this.linkedPrompts(experimentId),
      this.deletedRuns(experimentId),
    ]);
    add("traces", traces.traces);
    add("assessments", traces.assessments);
    add("evaluation datasets", datasets);
    add("prompts", prompts);
    add("deleted runs", deleted);
    return holdings;
  }

  private async traces(
    experimentId: string,
    capabilities: ServerCapabilities,
  ): Promise<{ traces: number; assessments: number }> {
    let traces = 0;
    let assessments = 0;
    let token: string | undefined;
    if (capabilities.tracesV3) {
      do {
        const reply = await this.http.call<{
          traces?: Array<{ assessments?: unknown[] }>;
          next_page_token?: string;
        }>("POST", "/mlflow/traces/search", {
          api: "rest3",
          body: {
            locations: [{ type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: experimentId } }],
            max_results: PAGE,
            page_token: token,
          },
        });
        for (const trace of reply.traces ?? []) {
          traces++;
          assessments += trace.assessments?.length ?? 0;
        }
        token = reply.next_page_token || undefined;
      } while (token);
    } else if (capabilities.tracesV2) {
      do {
        const reply = await this.http.call<{ traces?: unknown[]; next_page_token?: string }>(
          "GET",
          "/mlflow/traces",
          { query: { experiment_ids: [experimentId], max_results: PAGE, page_token: token } },
        );
        traces += reply.traces?.length ?? 0;
        token = reply.next_page_token || undefined;
      } while (token);
    }
    return { traces, assessments };
  }

  private async evaluationDatasets(experimentId: string): Promise<number> {
    let count = 0;
    let token: string | undefined;
    do {
      const reply = await this.http.call<{ datasets?: unknown[]; next_page_token?: string }>(
        "POST",
        "/mlflow/datasets/search",
        { api: "rest3", body: { experiment_ids: [experimentId], max_results: PAGE, page_token: token } },
      );
      count += reply.datasets?.length ?? 0;
      token = reply.next_page_token || undefined;
    } while (token);
    return count;
  }

  /** Prompts of the registry linked to the experiment (the registry's search hides prompts unless asked). */
  private async linkedPrompts(experimentId: string): Promise<number> {
    let count = 0;
    let token: string | undefined;
    do {
      const reply = await this.http.call<{
        registered_models?: Array<{ tags?: Tag[] }>;
        next_page_token?: string;
      }>("GET", "/mlflow/registered-models/search", {
        query: { filter: `tags.\`${PROMPT_TAG}\` = 'true'`, max_results: 1000, page_token: token },
      });
      for (const model of reply.registered_models ?? []) {
        const linked = model.tags?.find((t) => t.key === PROMPT_EXPERIMENTS_TAG)?.value ?? "";
        if (linked.split(",").includes(experimentId)) count++;
      }
      token = reply.next_page_token || undefined;
    } while (token);
    return count;
  }

  private async deletedRuns(experimentId: string): Promise<number> {
    let count = 0;
    let token: string | undefined;
    do {
      const reply = await this.http.call<{ runs?: unknown[]; next_page_token?: string }>(
        "POST",
        "/mlflow/runs/search",
        {
          body: {
            experiment_ids: [experimentId],
            run_view_type: "DELETED_ONLY",
            max_results: 1000,
            page_token: token,
          },
        },
      );
      count += reply.runs?.length ?? 0;
      token = reply.next_page_token || undefined;
    } while (token);
    return count;
  }
}
