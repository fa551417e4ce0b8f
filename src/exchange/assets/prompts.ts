// How prompts travel: one prompt of MLflow 3's prompt registry, every version in order (text or
// chat template, response format, model config, commit message, tags) and its aliases. Table:
// `prompt_versions` (one row per version, the prompt's own description and tags repeated),
// rewritten whole when anything changed (a prompt has few versions).
//
// Import creates the prompt and its versions with the provider's numbers (versions are created
// in order; a gap left by a deleted version is filled by a placeholder that is deleted again),
// then sets the aliases. Idempotent: versions the recipient's prompt already has are skipped, so
// a rerun after a crash continues where it stopped. Creation times and users are the recipient's;
// the table keeps the provider's. The prompt's `_mlflow_experiment_ids` tag (experiment ids of
// the provider) is kept as `arcuate.source.experiment_ids`.
import { createHash } from "node:crypto";
import { Schema } from "apache-arrow";
import { ArcuateError } from "../../errors.js";
import type { ModelVersion, Tag } from "../../mlflow/index.js";
import { PROMPT_TAG, toNumber } from "../../mlflow/index.js";
import type { AssetExportContext, AssetImportContext, AssetKind, AssetSummary } from "./asset.js";
import { exportSeq, int64, stringList, stringMap, utf8 } from "./fields.js";
import { latestRows, type Row, replaceIfChanged } from "./rows.js";

export const PROMPT_SCHEMAS = {
  prompt_versions: new Schema([
    utf8("prompt_name", false),
    utf8("prompt_description"),
    stringMap("prompt_tags"),
    int64("version", false),
    utf8("template", false),
    utf8("prompt_type"),
    utf8("response_format_json"),
    utf8("model_config_json"),
    utf8("commit_message"),
    stringMap("tags"),
    stringList("aliases"),
    utf8("user_id"),
    int64("creation_timestamp"),
    int64("last_updated_timestamp"),
    utf8("record_sha256", false),
    exportSeq(),
  ]),
} as const;

/** Version tags MLflow's prompt registry uses for a version's content, columns of their own. */
const CONTENT_TAGS = {
  template: "mlflow.prompt.text",
  prompt_type: "_mlflow_prompt_type",
  response_format_json: "_mlflow_prompt_response_format",
  model_config_json: "_mlflow_prompt_model_config",
} as const;
const EXPERIMENT_IDS_TAG = "_mlflow_experiment_ids";
export const TAG_SOURCE_PROMPT = "arcuate.source.prompt";
const TAG_SOURCE_EXPERIMENT_IDS = "arcuate.source.experiment_ids";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const tagMap = (tags: Tag[] | undefined) => Object.fromEntries((tags ?? []).map((t) => [t.key, t.value]));

function versionRow(
  prompt: {
    name: string;
    description?: string;
    tags?: Tag[];
    aliases?: Array<{ alias: string; version: string }>;
  },
  version: ModelVersion,
): Row {
  const tags = tagMap(version.tags);
  const content: Row = {};
  for (const [column, key] of Object.entries(CONTENT_TAGS)) {
    content[column] = tags[key] ?? null;
    delete tags[key];
  }
  delete tags[PROMPT_TAG];
  const promptTags = tagMap(prompt.tags);
  delete promptTags[PROMPT_TAG];
  const row: Row = {
    prompt_name: prompt.name,
    prompt_description: prompt.description ?? null,
    prompt_tags: promptTags,
    version: Number(version.version),
    ...content,
    template: content.template ?? "",
    commit_message: version.description ?? null,
    tags,
    aliases: (prompt.aliases ?? [])
      .filter((a) => a.version === version.version)
      .map((a) => a.alias)
      .sort(),
    user_id: version.user_id ?? null,
    creation_timestamp: toNumber(version.creation_timestamp) ?? null,
    last_updated_timestamp: toNumber(version.last_updated_timestamp) ?? null,
  };
  const { last_updated_timestamp: _t, ...stable } = row;
  row.record_sha256 = sha256(JSON.stringify(stable));
  return row;
}

async function exportPrompt(context: AssetExportContext): Promise<AssetSummary> {
  const { mlflow, tables, seq, name } = context;
  const prompt = await mlflow.prompts.get(name).catch((error: unknown) => {
    if (error instanceof Error && "code" in error && error.code === "RESOURCE_DOES_NOT_EXIST") {
      throw new ArcuateError(
        "RESOURCE_DOES_NOT_EXIST",
        `exchange: prompt '${name}' does not exist on ${mlflow.trackingUri}`,
        { cause: error },
      );
    }
    throw error;
  });
  if (!(prompt.tags ?? []).some((t) => t.key === PROMPT_TAG && t.value === "true")) {
    throw new ArcuateError(
      "INVALID_PARAMETER_VALUE",
      `exchange: '${name}' on ${mlflow.trackingUri} is a registered model, not a prompt; share it WITH MODEL '${name}'`,
    );
  }
  const versions = await mlflow.prompts.listVersions(name);
  const rows = versions.map((v) => versionRow(prompt, v));
  const { changed } = await replaceIfChanged(
    tables.prompt_versions!,
    PROMPT_SCHEMAS.prompt_versions,
    "version",
    rows,
    seq,
  );
  context.onProgress?.({
    step: "prompt",
    message: `prompt '${name}': ${versions.length} versions (${changed} new or changed)`,
  });
  return { counts: { versions: versions.length, changedVersions: changed }, skipped: [] };
}

async function importPrompt(context: AssetImportContext): Promise<AssetSummary> {
  const { mlflow, source, name } = context;
  const rows = [...(await latestRows(source, "prompt_versions", "version")).values()].sort(
    (a, b) => Number(a.version) - Number(b.version),
  );
  if (rows.length === 0) {
    throw new ArcuateError(
      "RESOURCE_DOES_NOT_EXIST",
      `exchange: ${source.description} holds no prompt versions`,
    );
  }
  const first = rows[0]!;
  let existing = await mlflow.prompts.get(name).catch((error: unknown) => {
    if (error instanceof Error && "code" in error && error.code === "RESOURCE_DOES_NOT_EXIST")
      return undefined;
    throw error;
  });
  const sourceName = String(first.prompt_name);
  const ours = (existing?.tags ?? []).some((t) => t.key === TAG_SOURCE_PROMPT);
  if (existing && context.replace) {
    await mlflow.models.delete(name);
    existing = undefined;
  } else if (existing && !ours) {
    throw new ArcuateError(
      "RESOURCE_ALREADY_EXISTS",
      `exchange: '${name}' already exists on ${mlflow.trackingUri} and was not imported by arcuate; choose another name or use CREATE OR REPLACE PROMPT`,
    );
  }
  if (!existing) {
    const tags = { ...(first.prompt_tags as Record<string, string>) };
    if (tags[EXPERIMENT_IDS_TAG] !== undefined) {
      tags[TAG_SOURCE_EXPERIMENT_IDS] = tags[EXPERIMENT_IDS_TAG]!;
      delete tags[EXPERIMENT_IDS_TAG];
    }
    tags[TAG_SOURCE_PROMPT] = sourceName;
    await mlflow.prompts.create(name, {
      ...(first.prompt_description ? { description: String(first.prompt_description) } : {}),
      tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
    });
  }
  const have = new Set((await mlflow.prompts.listVersions(name)).map((v) => Number(v.version)));
  let latest = Math.max(0, ...have);
  let created = 0;
  for (const row of rows) {
    const number = Number(row.version);
    if (have.has(number)) continue;
    // Gaps in the provider's numbering: placeholders, deleted once the wanted number is reached.
    const placeholders: string[] = [];
    while (latest + 1 < number) {
      const placeholder = await mlflow.prompts.createVersion(name, {
        commitMessage: "arcuate placeholder, deleted once the next version exists",
        tags: [{ key: CONTENT_TAGS.template, value: "" }],
      });
      placeholders.push(placeholder.version);
      latest = Number(placeholder.version);
    }
    const tags: Tag[] = Object.entries(row.tags as Record<string, string>).map(([key, value]) => ({
      key,
      value,
    }));
    for (const [column, key] of Object.entries(CONTENT_TAGS)) {
      const value = row[column];
      if (value !== null && value !== undefined) tags.push({ key, value: String(value) });
    }
    const version = await mlflow.prompts.createVersion(name, {
      ...(row.commit_message ? { commitMessage: String(row.commit_message) } : {}),
      tags,
    });
    latest = Number(version.version);
    for (const placeholder of placeholders) await mlflow.versions.delete(name, placeholder);
    created++;
  }
  const current = await mlflow.prompts.get(name);
  for (const row of rows) {
    for (const alias of (row.aliases as string[] | null) ?? []) {
      const now = (current.aliases ?? []).find((a) => a.alias === alias)?.version;
      if (now !== String(row.version)) await mlflow.prompts.setAlias(name, alias, String(row.version));
    }
  }
  context.onProgress?.({
    step: "prompt",
    message: `prompt '${name}': ${rows.length} versions (${created} created)`,
  });
  return { counts: { versions: rows.length, createdVersions: created }, skipped: [] };
}

export const promptsAsset: AssetKind = {
  name: "prompts",
  tables: ["prompt_versions"],
  export: exportPrompt,
  import: importPrompt,
};
