// The model registry: registered models, their versions, aliases, tags and stages, and MLflow 3
// logged models (`models:/m-…`).
import { ArcuateError } from "../errors.js";
import type { Http } from "./http.js";
import { allPages } from "./tracking.js";
import type {
  LoggedModel,
  LoggedModelStatus,
  ModelStage,
  ModelVersion,
  Page,
  Param,
  RegisteredModel,
  Tag,
} from "./types.js";

export class RegisteredModels {
  constructor(private readonly http: Http) {}

  async create(name: string, options: { description?: string; tags?: Tag[] } = {}): Promise<RegisteredModel> {
    const reply = await this.http.call<{ registered_model: RegisteredModel }>(
      "POST",
      "/mlflow/registered-models/create",
      { body: { name, description: options.description, tags: options.tags } },
    );
    return reply.registered_model;
  }

  async get(name: string): Promise<RegisteredModel> {
    const reply = await this.http.call<{ registered_model: RegisteredModel }>(
      "GET",
      "/mlflow/registered-models/get",
      {
        query: { name },
      },
    );
    return reply.registered_model;
  }

  async search(
    options: { filter?: string; orderBy?: string[]; maxResults?: number; pageToken?: string } = {},
  ): Promise<Page<RegisteredModel>> {
    const reply = await this.http.call<{ registered_models?: RegisteredModel[]; next_page_token?: string }>(
      "GET",
      "/mlflow/registered-models/search",
      {
        query: {
          filter: options.filter,
          order_by: options.orderBy,
          max_results: options.maxResults ?? 1000,
          page_token: options.pageToken,
        },
      },
    );
    return { items: reply.registered_models ?? [], nextPageToken: reply.next_page_token };
  }

  searchAll(options: { filter?: string } = {}): AsyncGenerator<RegisteredModel> {
    return allPages((pageToken) => this.search({ ...options, pageToken }));
  }

  async setDescription(name: string, description: string): Promise<void> {
    await this.http.call("PATCH", "/mlflow/registered-models/update", { body: { name, description } });
  }

  async setTag(name: string, key: string, value: string): Promise<void> {
    await this.http.call("POST", "/mlflow/registered-models/set-tag", { body: { name, key, value } });
  }

  async deleteTag(name: string, key: string): Promise<void> {
    await this.http.call("DELETE", "/mlflow/registered-models/delete-tag", { body: { name, key } });
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await this.http.call("POST", "/mlflow/registered-models/alias", { body: { name, alias, version } });
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    await this.http.call("DELETE", "/mlflow/registered-models/alias", { body: { name, alias } });
  }

  async getVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    const reply = await this.http.call<{ model_version: ModelVersion }>(
      "GET",
      "/mlflow/registered-models/alias",
      {
        query: { name, alias },
      },
    );
    return reply.model_version;
  }

  async delete(name: string): Promise<void> {
    await this.http.call("DELETE", "/mlflow/registered-models/delete", { body: { name } });
  }
}

export interface CreateVersionOptions {
  /** Where the model's files are: `runs:/…`, `models:/m-…`, `mlflow-artifacts:/…`. */
  source: string;
  runId?: string;
  /** MLflow 3 logged model id. */
  modelId?: string;
  description?: string;
  tags?: Tag[];
  runLink?: string;
  /** Wait until the version is READY (default true), at most this long. */
  waitUntilReady?: boolean;
  timeoutMs?: number;
}

export class ModelVersions {
  constructor(private readonly http: Http) {}

  async create(name: string, options: CreateVersionOptions): Promise<ModelVersion> {
    const reply = await this.http.call<{ model_version: ModelVersion }>(
      "POST",
      "/mlflow/model-versions/create",
      {
        body: {
          name,
          source: options.source,
          run_id: options.runId,
          model_id: options.modelId,
          description: options.description,
          tags: options.tags,
          run_link: options.runLink,
        },
      },
    );
    const created = reply.model_version;
    if (options.waitUntilReady === false) return created;
    return this.waitUntilReady(name, created.version, options.timeoutMs ?? 120_000);
  }

  async waitUntilReady(name: string, version: string, timeoutMs: number): Promise<ModelVersion> {
    const deadline = Date.now() + timeoutMs;
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      const current = await this.get(name, version);
      if (current.status === undefined || current.status === "READY") return current;
      if (current.status === "FAILED_REGISTRATION") {
        throw new ArcuateError(
          "INTERNAL_ERROR",
          `mlflow: version ${version} of model '${name}' failed to register: ${current.status_message ?? "no reason given"}`,
        );
      }
      if (Date.now() > deadline) {
        throw new ArcuateError(
          "TEMPORARILY_UNAVAILABLE",
          `mlflow: version ${version} of model '${name}' is still ${current.status} after ${timeoutMs} ms`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  async get(name: string, version: string): Promise<ModelVersion> {
    const reply = await this.http.call<{ model_version: ModelVersion }>("GET", "/mlflow/model-versions/get", {
      query: { name, version },
    });
    return reply.model_version;
  }

  async search(
    options: { filter?: string; orderBy?: string[]; maxResults?: number; pageToken?: string } = {},
  ): Promise<Page<ModelVersion>> {
    const reply = await this.http.call<{ model_versions?: ModelVersion[]; next_page_token?: string }>(
      "GET",
      "/mlflow/model-versions/search",
      {
        query: {
          filter: options.filter,
          order_by: options.orderBy,
          max_results: options.maxResults ?? 10_000,
          page_token: options.pageToken,
        },
      },
    );
    return { items: reply.model_versions ?? [], nextPageToken: reply.next_page_token };
  }

  /** Every version of a registered model, in ascending version order. */
  async listAll(name: string): Promise<ModelVersion[]> {
    const versions: ModelVersion[] = [];
    const filter = `name='${name.replace(/'/g, "\\'")}'`;
    for await (const version of allPages((pageToken) => this.search({ filter, pageToken })))
      versions.push(version);
    return versions.sort((a, b) => Number(a.version) - Number(b.version));
  }

  async setDescription(name: string, version: string, description: string): Promise<void> {
    await this.http.call("PATCH", "/mlflow/model-versions/update", { body: { name, version, description } });
  }

  async setTag(name: string, version: string, key: string, value: string): Promise<void> {
    await this.http.call("POST", "/mlflow/model-versions/set-tag", { body: { name, version, key, value } });
  }

  async deleteTag(name: string, version: string, key: string): Promise<void> {
    await this.http.call("DELETE", "/mlflow/model-versions/delete-tag", { body: { name, version, key } });
  }

  async transitionStage(
    name: string,
    version: string,
    stage: ModelStage | string,
    archiveExistingVersions = false,
  ): Promise<ModelVersion> {
    const reply = await this.http.call<{ model_version: ModelVersion }>(
      "POST",
      "/mlflow/model-versions/transition-stage",
      { body: { name, version, stage, archive_existing_versions: archiveExistingVersions } },
    );
    return reply.model_version;
  }

  async delete(name: string, version: string): Promise<void> {
    await this.http.call("DELETE", "/mlflow/model-versions/delete", { body: { name, version } });
  }
}

export class LoggedModels {
  constructor(private readonly http: Http) {}

  async create(
    experimentId: string,
    options: { name: string; modelType?: string; sourceRunId?: string; params?: Param[]; tags?: Tag[] },
  ): Promise<LoggedModel> {
    const reply = await this.http.call<{ model: LoggedModel }>("POST", "/mlflow/logged-models", {
      body: {
        experiment_id: experimentId,
        name: options.name,
        model_type: options.modelType,
        source_run_id: options.sourceRunId,
        params: options.params,
        tags: options.tags,
      },
    });
    return reply.model;
  }

  async get(modelId: string): Promise<LoggedModel> {
    const reply = await this.http.call<{ model: LoggedModel }>(
      "GET",
      `/mlflow/logged-models/${encodeURIComponent(modelId)}`,
    );
    return reply.model;
  }

  async search(options: {
    experimentIds: string[];
    filter?: string;
    maxResults?: number;
    pageToken?: string;
  }): Promise<Page<LoggedModel>> {
    const reply = await this.http.call<{ models?: LoggedModel[]; next_page_token?: string }>(
      "POST",
      "/mlflow/logged-models/search",
      {
        body: {
          experiment_ids: options.experimentIds,
          filter: options.filter,
          max_results: options.maxResults ?? 100,
          page_token: options.pageToken,
        },
      },
    );
    return { items: reply.models ?? [], nextPageToken: reply.next_page_token };
  }

  searchAll(options: { experimentIds: string[]; filter?: string }): AsyncGenerator<LoggedModel> {
    return allPages((pageToken) => this.search({ ...options, pageToken }));
  }

  async finalize(modelId: string, status: LoggedModelStatus = "LOGGED_MODEL_READY"): Promise<LoggedModel> {
    const reply = await this.http.call<{ model: LoggedModel }>(
      "PATCH",
      `/mlflow/logged-models/${encodeURIComponent(modelId)}`,
      { body: { model_id: modelId, status } },
    );
    return reply.model;
  }

  async setTags(modelId: string, tags: Tag[]): Promise<void> {
    await this.http.call("PATCH", `/mlflow/logged-models/${encodeURIComponent(modelId)}/tags`, {
      body: { model_id: modelId, tags },
    });
  }

  async deleteTag(modelId: string, key: string): Promise<void> {
    await this.http.call(
      "DELETE",
      `/mlflow/logged-models/${encodeURIComponent(modelId)}/tags/${encodeURIComponent(key)}`,
    );
  }

  async logParams(modelId: string, params: Param[]): Promise<void> {
    await this.http.call("POST", `/mlflow/logged-models/${encodeURIComponent(modelId)}/params`, {
      body: { model_id: modelId, params },
    });
  }

  async delete(modelId: string): Promise<void> {
    await this.http.call("DELETE", `/mlflow/logged-models/${encodeURIComponent(modelId)}`);
  }
}
