// MLflow 3 evaluation datasets (`mlflow.genai.datasets`): v3 endpoints under
// /api/3.0/mlflow/datasets. A dataset has a name, tags (JSON text on the wire), the experiments it
// is linked to, and records (inputs, expectations, outputs, tags, source) that MLflow upserts by
// their inputs, so sending a record again updates it rather than adding a copy.
import type { Http } from "./http.js";
import { callJson } from "./traces.js";
import type { Page } from "./types.js";

export interface EvaluationDataset {
  dataset_id: string;
  name: string;
  /** JSON object text. */
  tags?: string;
  schema?: string;
  profile?: string;
  digest?: string;
  created_time?: number | string;
  last_update_time?: number | string;
  created_by?: string;
  last_updated_by?: string;
}

export interface DatasetRecord {
  dataset_record_id: string;
  dataset_id?: string;
  inputs?: Record<string, unknown>;
  expectations?: Record<string, unknown>;
  outputs?: unknown;
  tags?: Record<string, string>;
  source?: { source_type?: string; source_data?: Record<string, unknown> };
  source_type?: string;
  created_time?: number;
  last_update_time?: number;
  created_by?: string;
  last_updated_by?: string;
}

const V3 = "/api/3.0/mlflow/datasets";

export class EvaluationDatasets {
  constructor(private readonly http: Http) {}

  async search(
    experimentIds: string[],
    options: { pageToken?: string; filter?: string } = {},
  ): Promise<Page<EvaluationDataset>> {
    const reply = await callJson<{ datasets?: EvaluationDataset[]; next_page_token?: string }>(
      this.http,
      "POST",
      `${V3}/search`,
      {
        body: {
          experiment_ids: experimentIds,
          max_results: 1000,
          ...(options.filter ? { filter_string: options.filter } : {}),
          ...(options.pageToken ? { page_token: options.pageToken } : {}),
        },
      },
    );
    return { items: reply.datasets ?? [], nextPageToken: reply.next_page_token };
  }

  async searchAll(experimentIds: string[]): Promise<EvaluationDataset[]> {
    const all: EvaluationDataset[] = [];
    let token: string | undefined;
    do {
      const page = await this.search(experimentIds, token ? { pageToken: token } : {});
      all.push(...page.items);
      token = page.nextPageToken || undefined;
    } while (token);
    return all;
  }

  /** Every record of a dataset, a page (1,000) at a time. */
  async *records(datasetId: string): AsyncGenerator<DatasetRecord> {
    let token: string | undefined;
    do {
      const reply = await callJson<{ records?: string; next_page_token?: string }>(
        this.http,
        "GET",
        `${V3}/${encodeURIComponent(datasetId)}/records`,
        { query: { max_results: 1000, ...(token ? { page_token: token } : {}) } },
      );
      for (const record of JSON.parse(reply.records || "[]") as DatasetRecord[]) yield record;
      token = reply.next_page_token || undefined;
    } while (token);
  }

  async create(
    name: string,
    experimentIds: string[],
    tags: Record<string, string>,
  ): Promise<EvaluationDataset> {
    const reply = await callJson<{ dataset: EvaluationDataset }>(this.http, "POST", `${V3}/create`, {
      body: { name, experiment_ids: experimentIds, tags: JSON.stringify(tags) },
    });
    return reply.dataset;
  }

  async setTags(datasetId: string, tags: Record<string, string>): Promise<void> {
    await callJson(this.http, "PATCH", `${V3}/${encodeURIComponent(datasetId)}/tags`, {
      body: { tags: JSON.stringify(tags) },
    });
  }

  /** Upserts records (matched by their inputs); returns how many were inserted and updated. */
  async upsertRecords(
    datasetId: string,
    records: Array<Omit<DatasetRecord, "dataset_record_id">>,
  ): Promise<{ inserted: number; updated: number }> {
    const reply = await callJson<{ inserted_count?: number; updated_count?: number }>(
      this.http,
      "POST",
      `${V3}/${encodeURIComponent(datasetId)}/records`,
      { body: { records: JSON.stringify(records) } },
    );
    return { inserted: reply.inserted_count ?? 0, updated: reply.updated_count ?? 0 };
  }
}
