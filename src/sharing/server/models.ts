// OpenSharing ML model endpoints (`spec/protocols/ML_MODELS.md`): every arcuate model export in a
// share (a schema whose `versions` table carries `arcuate.kind=model`) is a RegisteredModel named
// as the export, in the schema of the same name, with a ModelVersion per row of `versions`.
//
//   GET  …/shares/{share}/all-models
//   GET  …/shares/{share}/schemas/{schema}/models
//   GET  …/shares/{share}/schemas/{schema}/models/{model}
//   GET  …/shares/{share}/schemas/{schema}/models/{model}/versions          (READY only)
//   GET  …/shares/{share}/schemas/{schema}/models/{model}/versions/{version}
//   GET  …/shares/{share}/schemas/{schema}/models/{model}/aliases/{alias}
//   POST …/versions/{version}/temporary-model-version-credentials          (the spec's name)
//   POST …/versions/{version}/temporary-model-credentials                  (the README's name)
//
// Same tokens, grants and errors as the tables: an ungranted share is a missing one.
import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { isS3Location, type Snapshot, vendReadCredentials } from "../../delta/index.js";
import { ArcuateError, NotFoundError } from "../../errors.js";
import type { CatalogView, Principal, SchemaEntry, ShareEntry, TableEntry } from "../catalog/state.js";
import { byNameKey, sortedByName } from "../catalog/state.js";
import {
  locationUrl,
  MODEL_ALIASES_HEADER,
  type ModelVersionInfo,
  type ModelVersionStatus,
  manifestPath,
  modelFilesRoot,
  type RegisteredModelInfo,
  storageAt,
  type TemporaryCredentials,
  versionPrefix,
} from "../models.js";
import { nameKey, nameProblem } from "../protocol.js";
import type { DirectoryAccess } from "./credentials.js";
import { badRequest, type RequestContext, type Route, route, sendJson } from "./http.js";
import type { PageTokens } from "./pagination.js";
import type { TableCache } from "./tables.js";

export interface ModelRouteOptions {
  tables: TableCache;
  pages: PageTokens;
  /** The role STS assumes for temporary credentials (as for tables); without it the endpoint answers 400. */
  directory: DirectoryAccess | undefined;
}

type Ctx = RequestContext & { view: CatalogView; principal: Principal };

/** A version as the export recorded it. */
interface VersionRow {
  version: number;
  modelName: string;
  modelDescription: string | null;
  status: string | null;
  source: string | null;
  runId: string | null;
  description: string | null;
  aliases: string[];
}

interface ExportedModel {
  share: ShareEntry;
  schema: SchemaEntry;
  versionsTable: TableEntry;
  /** Where the model files are, as the table location is written. */
  filesRoot: string;
  rows: VersionRow[];
  /** Versions whose files the export finished writing (a manifest exists). */
  written: Set<number>;
}

const PROPERTY_KIND = "arcuate.kind";

/** The model routes, for the server's route table. */
export function modelRoutes(options: ModelRouteOptions): Route[] {
  const models = new ModelEndpoints(options);
  const on = (method: string, pattern: string, h: (ctx: Ctx) => Promise<void>) =>
    route(method, pattern, (ctx) => h(ctx as Ctx));
  const M = "shares/:share/schemas/:schema/models/:model";
  return [
    on("GET", "shares/:share/all-models", (ctx) => models.listAll(ctx)),
    on("GET", "shares/:share/schemas/:schema/models", (ctx) => models.list(ctx)),
    on("GET", M, (ctx) => models.get(ctx)),
    on("GET", `${M}/versions`, (ctx) => models.versions(ctx)),
    on("GET", `${M}/versions/:version`, (ctx) => models.version(ctx)),
    on("GET", `${M}/aliases/:alias`, (ctx) => models.alias(ctx)),
    on("POST", `${M}/versions/:version/temporary-model-version-credentials`, (ctx) =>
      models.credentials(ctx),
    ),
    on("POST", `${M}/versions/:version/temporary-model-credentials`, (ctx) => models.credentials(ctx)),
  ];
}

class ModelEndpoints {
  /** Rows and written versions per snapshot of a `versions` table: recomputed only after a commit. */
  private readonly read = new WeakMap<Snapshot, Promise<{ rows: VersionRow[]; written: Set<number> }>>();

  constructor(private readonly options: ModelRouteOptions) {}

  async listAll(ctx: Ctx): Promise<void> {
    const share = this.share(ctx);
    const all: Array<{ name: string; model: ExportedModel }> = [];
    for (const schema of sortedByName(share.schemas)) {
      const model = await this.model(share, schema);
      // Keyed "schema.model" (no '.' in either), so pages follow schema then model.
      if (model) all.push({ name: `${schema.name}.${schema.name}`, model });
    }
    this.sendPage(ctx, `all-models\n${nameKey(share.name)}`, all, (m) => modelInfo(m.model));
  }

  async list(ctx: Ctx): Promise<void> {
    const share = this.share(ctx);
    const schema = this.schema(ctx, share);
    const model = await this.model(share, schema);
    const items = model ? [{ name: schema.name, model }] : [];
    this.sendPage(ctx, `models\n${nameKey(share.name)}\n${nameKey(schema.name)}`, items, (m) =>
      modelInfo(m.model),
    );
  }

  async get(ctx: Ctx): Promise<void> {
    sendJson(ctx.res, 200, modelInfo(await this.named(ctx)));
  }

  async versions(ctx: Ctx): Promise<void> {
    const model = await this.named(ctx);
    const aliases = wantsAliases(ctx.req);
    const ready = model.rows
      .filter((row) => statusOf(model, row) === "READY")
      .map((row) => ({ name: String(row.version).padStart(20, "0"), row }));
    const listing = `model-versions\n${nameKey(model.share.name)}\n${nameKey(model.schema.name)}`;
    this.sendPage(ctx, listing, ready, (v) => versionInfo(model, v.row, aliases));
  }

  async version(ctx: Ctx): Promise<void> {
    const model = await this.named(ctx);
    sendJson(ctx.res, 200, versionInfo(model, this.row(ctx, model), wantsAliases(ctx.req)));
  }

  async alias(ctx: Ctx): Promise<void> {
    const model = await this.named(ctx);
    const alias = ctx.params.alias!;
    if (alias.length === 0 || alias.length > 255)
      throw badRequest("sharing: alias name is empty or too long");
    const key = nameKey(alias);
    const row = model.rows.find((r) => r.aliases.some((a) => nameKey(a) === key));
    if (!row)
      throw new NotFoundError(`sharing: model '${qualified(model)}' has no alias '${alias.slice(0, 255)}'`);
    sendJson(ctx.res, 200, versionInfo(model, row, wantsAliases(ctx.req)));
  }

  async credentials(ctx: Ctx): Promise<void> {
    const model = await this.named(ctx);
    const row = this.row(ctx, model);
    if (statusOf(model, row) !== "READY") {
      throw badRequest(
        `sharing: version ${row.version} of model '${qualified(model)}' is not READY; only READY versions have credentials`,
      );
    }
    const location = versionLocation(model, row.version);
    const access = this.options.directory;
    if (!isS3Location(location)) {
      throw new ArcuateError(
        "UNSUPPORTED_FEATURE",
        "sharing: this server keeps model files on its local disk and cannot vend temporary credentials for them; import the model through its Delta tables instead",
      );
    }
    if (!access) {
      throw new ArcuateError(
        "UNSUPPORTED_FEATURE",
        "sharing: this server has no role to assume for temporary credentials (ARCUATE_S3_ROLE_ARN)",
      );
    }
    // Scoped read-only to exactly `<n>/`: not the manifest beside it, not another version.
    const vended = await vendReadCredentials({
      location: location.replace(/\/+$/, ""),
      roleArn: access.roleArn,
      durationSeconds: access.durationSeconds,
      sessionName: `arcuate-model-${row.version}`,
    });
    const credentials: TemporaryCredentials = {
      awsTempCredentials: {
        accessKeyId: vended.accessKeyId,
        secretAccessKey: vended.secretAccessKey,
        sessionToken: vended.sessionToken,
      },
      expirationTime: vended.expiration,
    };
    sendJson(ctx.res, 200, credentials);
  }

  // -------------------------------------------------------------------------------------------

  private sendPage<T extends { name: string }>(
    ctx: Ctx,
    listing: string,
    items: T[],
    render: (item: T) => unknown,
  ): void {
    const pages = this.options.pages;
    const request = pages.request(ctx.query, ctx.principal.id, listing);
    const page = pages.page(items, request, ctx.principal.id, listing);
    sendJson(ctx.res, 200, {
      items: page.items.map(render),
      ...(page.nextPageToken === undefined ? {} : { nextPageToken: page.nextPageToken }),
    });
  }

  private share(ctx: Ctx): ShareEntry {
    const name = checkedName("share", ctx.params.share!);
    const share = ctx.view.share(ctx.principal, name);
    if (!share) throw new NotFoundError(`sharing: share '${name}' does not exist`);
    return share;
  }

  private schema(ctx: Ctx, share: ShareEntry): SchemaEntry {
    const name = checkedName("schema", ctx.params.schema!);
    const schema = byNameKey(share.schemas, name);
    if (!schema) throw new NotFoundError(`sharing: schema '${share.name}.${name}' does not exist`);
    return schema;
  }

  /** The model the path names: 404 unless the schema holds a model export of that name. */
  private async named(ctx: Ctx): Promise<ExportedModel> {
    const share = this.share(ctx);
    const schema = this.schema(ctx, share);
    const name = checkedName("model", ctx.params.model!);
    const model = nameKey(name) === nameKey(schema.name) ? await this.model(share, schema) : undefined;
    if (!model)
      throw new NotFoundError(`sharing: model '${share.name}.${schema.name}.${name}' does not exist`);
    return model;
  }

  private row(ctx: Ctx, model: ExportedModel): VersionRow {
    const raw = ctx.params.version!;
    if (!/^\d{1,15}$/.test(raw))
      throw badRequest(`sharing: version must be a non-negative integer, not '${raw.slice(0, 40)}'`);
    const row = model.rows.find((r) => r.version === Number(raw));
    if (!row) throw new NotFoundError(`sharing: model '${qualified(model)}' has no version ${Number(raw)}`);
    return row;
  }

  /** The model export in a schema, or undefined when the schema holds none (or its table is unreadable). */
  private async model(share: ShareEntry, schema: SchemaEntry): Promise<ExportedModel | undefined> {
    const versionsTable = byNameKey(schema.tables, "versions");
    if (!versionsTable) return undefined;
    let snapshot: Snapshot;
    try {
      snapshot = await this.options.tables.latest(versionsTable.location);
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
    if (snapshot.metadata.configuration?.[PROPERTY_KIND] !== "model") return undefined;
    const filesRoot = modelFilesRoot(versionsTable.location);
    let pending = this.read.get(snapshot);
    if (!pending) {
      pending = readVersions(snapshot, filesRoot);
      this.read.set(snapshot, pending);
      pending.catch(() => this.read.delete(snapshot));
    }
    const { rows, written } = await pending;
    return { share, schema, versionsTable, filesRoot, rows, written };
  }
}

/** Reads every row of a `versions` snapshot, and which versions have their files written. */
async function readVersions(
  snapshot: Snapshot,
  filesRoot: string,
): Promise<{ rows: VersionRow[]; written: Set<number> }> {
  const rows: VersionRow[] = [];
  const columns = [
    "model_name",
    "model_description",
    "version",
    "status",
    "source",
    "source_run_id",
    "description",
    "aliases",
  ];
  for await (const batch of snapshot.scanBatches({ columns })) {
    const get = (name: string, i: number) => batch.getChild(name)?.get(i) as unknown;
    for (let i = 0; i < batch.numRows; i++) {
      const aliases = get("aliases", i) as { toArray(): unknown[] } | null;
      rows.push({
        version: Number(get("version", i)),
        modelName: String(get("model_name", i)),
        modelDescription: text(get("model_description", i)),
        status: text(get("status", i)),
        source: text(get("source", i)),
        runId: text(get("source_run_id", i)),
        description: text(get("description", i)),
        aliases: aliases ? [...aliases.toArray()].map(String) : [],
      });
    }
  }
  rows.sort((a, b) => a.version - b.version);
  const written = new Set<number>();
  let storage: ReturnType<typeof storageAt> | undefined;
  try {
    storage = storageAt(filesRoot);
  } catch {
    // no storage for this location here: no version is served as READY
  }
  if (storage) {
    const store = storage;
    const found = await Promise.all(rows.map((r) => store.stat(manifestPath(r.version))));
    rows.forEach((r, i) => {
      if (found[i]) written.add(r.version);
    });
  }
  return { rows, written };
}

function text(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

/**
 * READY when MLflow reported the version READY and the export wrote its files; a version MLflow
 * failed to register is FAILED_REGISTRATION; anything else is still pending.
 */
function statusOf(model: ExportedModel, row: VersionRow): ModelVersionStatus {
  if (row.status === "FAILED_REGISTRATION") return "FAILED_REGISTRATION";
  if (row.status === "READY" && model.written.has(row.version)) return "READY";
  return "PENDING_REGISTRATION";
}

function qualified(model: ExportedModel): string {
  return `${model.share.name}.${model.schema.name}.${model.schema.name}`;
}

function versionLocation(model: ExportedModel, version: number): string {
  return `${locationUrl(model.filesRoot)}/${versionPrefix(version)}`;
}

/** A stable id derived from another (UUID-shaped), so ids never change between exports. */
function derivedId(...parts: string[]): string {
  const hex = createHash("sha256").update(parts.join("\n")).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((Number.parseInt(hex[16]!, 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function modelInfo(model: ExportedModel): RegisteredModelInfo {
  const description = model.rows.find((r) => r.modelDescription)?.modelDescription;
  return {
    name: model.schema.name,
    schema: model.schema.name,
    share: model.share.name,
    shareId: model.share.id,
    id: model.versionsTable.id,
    ...(description ? { comment: description } : {}),
    storageLocation: `${locationUrl(model.filesRoot)}/`,
  };
}

function versionInfo(model: ExportedModel, row: VersionRow, aliases: boolean): ModelVersionInfo {
  return {
    modelName: model.schema.name,
    schema: model.schema.name,
    share: model.share.name,
    version: row.version,
    status: statusOf(model, row),
    storageLocation: versionLocation(model, row.version),
    id: derivedId(model.versionsTable.id, String(row.version)),
    ...(row.source ? { source: row.source } : {}),
    ...(row.runId ? { runId: row.runId } : {}),
    ...(row.description ? { comment: row.description } : {}),
    ...(aliases ? { aliases: [...row.aliases].sort() } : {}),
  };
}

function wantsAliases(req: IncomingMessage): boolean {
  const value = req.headers[MODEL_ALIASES_HEADER];
  return (Array.isArray(value) ? value[0] : value)?.trim().toLowerCase() === "true";
}

function checkedName(kind: "share" | "schema" | "model", name: string): string {
  const problem = nameProblem(kind === "model" ? "table" : kind, name);
  if (problem) throw badRequest(`sharing: ${problem.replace(/^table/, kind).slice(0, 300)}`);
  return name;
}
