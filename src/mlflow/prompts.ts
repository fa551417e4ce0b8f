// The prompt registry of MLflow 3: a prompt is a registered model tagged
// `mlflow.prompt.is_prompt = true`, each version a model version whose tags hold the template
// (`mlflow.prompt.text`), its type (`_mlflow_prompt_type`: text or chat), response format and
// model config. MLflow leaves prompts out of plain registry searches, so they are asked for by
// that tag. Creating one the way MLflow's own client does: the registered model with the tag,
// then versions with source `dummy-source`, the commit message as description.
import type { ModelVersions, RegisteredModels } from "./registry.js";
import { allPages } from "./tracking.js";
import type { ModelVersion, RegisteredModel, Tag } from "./types.js";

export const PROMPT_TAG = "mlflow.prompt.is_prompt";
/** The source MLflow's prompt registry gives every prompt version. */
export const PROMPT_SOURCE = "dummy-source";

const isPromptFilter = `tags.\`${PROMPT_TAG}\` = 'true'`;
const quote = (name: string) => `'${name.replace(/'/g, "\\'")}'`;

export class Prompts {
  constructor(
    private readonly models: RegisteredModels,
    private readonly versions: ModelVersions,
  ) {}

  /** The prompt (registered model with its aliases); a not-found error when absent or not a prompt. */
  async get(name: string): Promise<RegisteredModel> {
    return this.models.get(name);
  }

  /** Every prompt of the registry. */
  searchAll(): AsyncGenerator<RegisteredModel> {
    return this.models.searchAll({ filter: isPromptFilter });
  }

  /** Every version of a prompt, in version order. */
  async listVersions(name: string): Promise<ModelVersion[]> {
    const all: ModelVersion[] = [];
    for await (const version of allPages((pageToken) =>
      this.versions.search({ filter: `name = ${quote(name)} AND ${isPromptFilter}`, pageToken }),
    ))
      all.push(version);
    return all.sort((a, b) => Number(a.version) - Number(b.version));
  }

  async create(name: string, options: { description?: string; tags?: Tag[] } = {}): Promise<RegisteredModel> {
    return this.models.create(name, {
      ...options,
      tags: [...(options.tags ?? []).filter((t) => t.key !== PROMPT_TAG), { key: PROMPT_TAG, value: "true" }],
    });
  }

  async createVersion(name: string, options: { commitMessage?: string; tags: Tag[] }): Promise<ModelVersion> {
    return this.versions.create(name, {
      source: PROMPT_SOURCE,
      ...(options.commitMessage ? { description: options.commitMessage } : {}),
      tags: [...options.tags.filter((t) => t.key !== PROMPT_TAG), { key: PROMPT_TAG, value: "true" }],
    });
  }

  setAlias(name: string, alias: string, version: string): Promise<void> {
    return this.models.setAlias(name, alias, version);
  }
}
