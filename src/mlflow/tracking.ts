// Experiments, runs and metric histories: MLflow's tracking service. Each method has the same
// three steps as MLflow's RestStore: build the request, call the endpoint, convert the reply.
import { type MetricPoint, splitLogBatch } from "./batch.js";
import type { Http } from "./http.js";
import type {
  DatasetInput,
  Experiment,
  Metric,
  ModelOutput,
  Page,
  Param,
  Run,
  RunStatus,
  Tag,
  ViewType,
} from "./types.js";

/** Iterates every item of a paged listing, one page at a time. */
export async function* allPages<T>(fetchPage: (pageToken?: string) => Promise<Page<T>>): AsyncGenerator<T> {
  let token: string | undefined;
  do {
    const page = await fetchPage(token);
    for (const item of page.items) yield item;
    token = page.nextPageToken || undefined;
  } while (token);
}

export class Experiments {
  constructor(private readonly http: Http) {}

  async get(experimentId: string): Promise<Experiment> {
    const reply = await this.http.call<{ experiment: Experiment }>("GET", "/mlflow/experiments/get", {
      query: { experiment_id: experimentId },
    });
    return reply.experiment;
  }

  /** The experiment of that name; an MlflowNotFoundError when there is none. */
  async getByName(name: string): Promise<Experiment> {
    const reply = await this.http.call<{ experiment: Experiment }>("GET", "/mlflow/experiments/get-by-name", {
      query: { experiment_name: name },
    });
    return reply.experiment;
  }

  /** The experiment of that name, or undefined. */
  async findByName(name: string): Promise<Experiment | undefined> {
    try {
      return await this.getByName(name);
    } catch (error) {
      if (error instanceof Error && "code" in error && error.code === "RESOURCE_DOES_NOT_EXIST")
        return undefined;
      throw error;
    }
  }

  async create(name: string, options: { artifactLocation?: string; tags?: Tag[] } = {}): Promise<string> {
    const reply = await this.http.call<{ experiment_id: string }>("POST", "/mlflow/experiments/create", {
      body: { name, artifact_location: options.artifactLocation, tags: options.tags },
    });
    return reply.experiment_id;
  }

  async search(
    options: {
      filter?: string;
      orderBy?: string[];
      viewType?: ViewType;
      maxResults?: number;
      pageToken?: string;
    } = {},
  ): Promise<Page<Experiment>> {
    const reply = await this.http.call<{ experiments?: Experiment[]; next_page_token?: string }>(
      "POST",
      "/mlflow/experiments/search",
      {
        body: {
          filter: options.filter,
          order_by: options.orderBy,
          view_type: options.viewType,
          max_results: options.maxResults ?? 1000,
          page_token: options.pageToken,
        },
      },
    );
    return { items: reply.experiments ?? [], nextPageToken: reply.next_page_token };
  }

  searchAll(options: { filter?: string; viewType?: ViewType } = {}): AsyncGenerator<Experiment> {
    return allPages((pageToken) => this.search({ ...options, pageToken }));
  }

  async setTag(experimentId: string, key: string, value: string): Promise<void> {
    await this.http.call("POST", "/mlflow/experiments/set-experiment-tag", {
      body: { experiment_id: experimentId, key, value },
    });
  }

  async deleteTag(experimentId: string, key: string): Promise<void> {
    await this.http.call("POST", "/mlflow/experiments/delete-experiment-tag", {
      body: { experiment_id: experimentId, key },
    });
  }

  async delete(experimentId: string): Promise<void> {
    await this.http.call("POST", "/mlflow/experiments/delete", { body: { experiment_id: experimentId } });
  }

  async restore(experimentId: string): Promise<void> {
    await this.http.call("POST", "/mlflow/experiments/restore", { body: { experiment_id: experimentId } });
  }

  async rename(experimentId: string, newName: string): Promise<void> {
    await this.http.call("POST", "/mlflow/experiments/update", {
      body: { experiment_id: experimentId, new_name: newName },
    });
  }
}

export interface CreateRunOptions {
  runName?: string;
  /** Original start time in ms; default now. */
  startTime?: number;
  userId?: string;
  tags?: Tag[];
}

export class Runs {
  constructor(private readonly http: Http) {}

  async create(experimentId: string, options: CreateRunOptions = {}): Promise<Run> {
    const reply = await this.http.call<{ run: Run }>("POST", "/mlflow/runs/create", {
      body: {
        experiment_id: experimentId,
        run_name: options.runName,
        start_time: options.startTime ?? Date.now(),
        user_id: options.userId,
        tags: options.tags,
      },
    });
    return reply.run;
  }

  async get(runId: string): Promise<Run> {
    const reply = await this.http.call<{ run: Run }>("GET", "/mlflow/runs/get", { query: { run_id: runId } });
    return reply.run;
  }

  async update(
    runId: string,
    update: { status?: RunStatus; endTime?: number; runName?: string },
  ): Promise<void> {
    await this.http.call("POST", "/mlflow/runs/update", {
      body: { run_id: runId, status: update.status, end_time: update.endTime, run_name: update.runName },
    });
  }

  async search(options: {
    experimentIds: string[];
    filter?: string;
    orderBy?: string[];
    viewType?: ViewType;
    maxResults?: number;
    pageToken?: string;
  }): Promise<Page<Run>> {
    const reply = await this.http.call<{ runs?: Run[]; next_page_token?: string }>(
      "POST",
      "/mlflow/runs/search",
      {
        body: {
          experiment_ids: options.experimentIds,
          filter: options.filter,
          order_by: options.orderBy,
          run_view_type: options.viewType ?? "ACTIVE_ONLY",
          max_results: options.maxResults ?? 1000,
          page_token: options.pageToken,
        },
      },
    );
    return { items: reply.runs ?? [], nextPageToken: reply.next_page_token };
  }

  /** Every run of the experiments, page by page (the server caps a page at 1000 runs). */
  searchAll(options: { experimentIds: string[]; filter?: string; orderBy?: string[]; viewType?: ViewType }) {
    return allPages((pageToken) => this.search({ ...options, pageToken }));
  }

  /** Logs metrics, params and tags in as many log-batch requests as MLflow's limits require. */
  async logBatch(
    runId: string,
    input: { metrics?: MetricPoint[]; params?: Param[]; tags?: Tag[] },
  ): Promise<number> {
    let requests = 0;
    for (const batch of splitLogBatch(input)) {
      await this.http.call("POST", "/mlflow/runs/log-batch", { body: { run_id: runId, ...batch } });
      requests++;
    }
    return requests;
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.http.call("POST", "/mlflow/runs/set-tag", { body: { run_id: runId, key, value } });
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    await this.http.call("POST", "/mlflow/runs/delete-tag", { body: { run_id: runId, key } });
  }

  async delete(runId: string): Promise<void> {
    await this.http.call("POST", "/mlflow/runs/delete", { body: { run_id: runId } });
  }

  async restore(runId: string): Promise<void> {
    await this.http.call("POST", "/mlflow/runs/restore", { body: { run_id: runId } });
  }

  /** Dataset inputs and (MLflow 3) logged-model inputs of a run. */
  async logInputs(runId: string, inputs: { datasets?: DatasetInput[]; modelIds?: string[] }): Promise<void> {
    await this.http.call("POST", "/mlflow/runs/log-inputs", {
      body: {
        run_id: runId,
        datasets: inputs.datasets,
        models: inputs.modelIds?.map((model_id) => ({ model_id })),
      },
    });
  }

  /** MLflow 3 logged-model outputs of a run. */
  async logOutputs(runId: string, models: ModelOutput[]): Promise<void> {
    await this.http.call("POST", "/mlflow/runs/outputs", { body: { run_id: runId, models } });
  }
}

export class Metrics {
  constructor(private readonly http: Http) {}

  async historyPage(
    runId: string,
    key: string,
    options: { maxResults?: number; pageToken?: string } = {},
  ): Promise<Page<Metric>> {
    const reply = await this.http.call<{ metrics?: Metric[]; next_page_token?: string }>(
      "GET",
      "/mlflow/metrics/get-history",
      {
        query: {
          run_id: runId,
          metric_key: key,
          max_results: options.maxResults ?? 25_000,
          page_token: options.pageToken,
        },
      },
    );
    return { items: reply.metrics ?? [], nextPageToken: reply.next_page_token };
  }

  /** Every point of one metric of a run, in the server's order, page by page. */
  history(runId: string, key: string): AsyncGenerator<Metric> {
    return allPages((pageToken) => this.historyPage(runId, key, { pageToken }));
  }

  /**
   * The histories of one metric for up to {@link BULK_HISTORY_RUNS} runs in one request: MLflow's
   * `metrics/get-history-bulk`, which its UI uses (under /ajax-api) to chart many runs. One request
   * instead of one per run is most of an export's speed. The server answers at most
   * {@link BULK_HISTORY_POINTS} points, ordered by run id, then timestamp, step and value, and cuts
   * the rest off without a page token: `truncated` says the answer may be cut, and then only the
   * runs before the last run id in it are complete. Points carry `run_id`; like `get-history` on
   * MLflow's SQL store, they carry no `model_id` or dataset.
   */
  async historyBulk(runIds: string[], key: string): Promise<{ metrics: Metric[]; truncated: boolean }> {
    if (runIds.length > BULK_HISTORY_RUNS) {
      throw new RangeError(`mlflow: get-history-bulk takes at most ${BULK_HISTORY_RUNS} runs`);
    }
    const reply = await this.http.call<{ metrics?: Metric[] }>("GET", "/mlflow/metrics/get-history-bulk", {
      api: "ajax",
      nonFiniteTokens: true,
      query: { run_id: runIds, metric_key: key, max_results: BULK_HISTORY_POINTS },
    });
    const metrics = reply.metrics ?? [];
    return { metrics, truncated: metrics.length >= BULK_HISTORY_POINTS };
  }
}

/** MLflow's limits of `metrics/get-history-bulk` (server/handlers.py). */
export const BULK_HISTORY_RUNS = 100;
export const BULK_HISTORY_POINTS = 25_000;
