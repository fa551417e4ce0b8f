// The Delta Sharing server: every endpoint of PROTOCOL.md on node:http, over a catalog (the
// working-folder Catalog or a reference-server YAML config) that is consulted on every request,
// so shares, grants and recipients changed while it runs take effect at once.
//
//   GET  {prefix}/shares                                   list shares
//   GET  {prefix}/shares/{share}                           get share
//   GET  {prefix}/shares/{share}/schemas                   list schemas
//   GET  {prefix}/shares/{share}/schemas/{schema}/tables   list tables
//   GET  {prefix}/shares/{share}/all-tables                list all tables
//   GET  {prefix}/shares/{s}/schemas/{c}/tables/{t}/version   (HEAD …/tables/{t}, deprecated)
//   GET  {prefix}/shares/{s}/schemas/{c}/tables/{t}/metadata
//   POST {prefix}/shares/{s}/schemas/{c}/tables/{t}/query
//   GET  {prefix}/shares/{s}/schemas/{c}/tables/{t}/changes
//   POST {prefix}/shares/{s}/schemas/{c}/tables/{t}/queries/{queryId}   (async-queries.ts)
//   GET  {prefix}/files/{signed}                           pre-signed file URLs (HEAD too)
//   GET  /healthz, /readyz                                 probes (health.ts)
//   GET  /activation/{code}                                one-time profile download (activation.ts)
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { AuthError, NotFoundError } from "../../errors.js";
import type { RateLimit } from "../catalog/recipient-limits.js";
import type { CatalogView, Principal, ShareEntry, SharingCatalog, TableEntry } from "../catalog/state.js";
import { byNameKey, sortedByName } from "../catalog/state.js";
import { YamlCatalog } from "../catalog/yaml-config.js";
import {
  CAPABILITIES_HEADER,
  type NameKind,
  nameKey,
  nameProblem,
  parseCapabilities,
  type Share,
  TABLE_VERSION_HEADER,
} from "../protocol.js";
import { AccessLimits } from "./access-limits.js";
import { AccessTrail } from "./access-trail.js";
import { answerActivation } from "./activation.js";
import { AsyncQueries } from "./async-queries.js";
import { AuditLog, type AuditOptions } from "./audit-log.js";
import { prepareChanges } from "./changes.js";
import {
  accessFields,
  type DirectoryAccess,
  directoryAccessFrom,
  temporaryTableCredentials,
  withAccessFields,
} from "./credentials.js";
import { resolveTableFile, sendFile } from "./files.js";
import { answerProbe } from "./health.js";
import {
  badRequest,
  type Logger,
  match,
  NdjsonWriter,
  type RequestContext,
  type Route,
  readJsonBody,
  renderError,
  route,
  sendJson,
  splitTarget,
} from "./http.js";
import { modelRoutes } from "./models.js";
import { answerTokenRequest } from "./oauth-token.js";
import { DEFAULT_MAX_RESULTS_CAP, PageTokens } from "./pagination.js";
import {
  type Prepared,
  parseQueryBody,
  prepareMetadata,
  prepareQuery,
  type ServedTable,
  tableVersion,
} from "./query.js";
import { UrlSigner } from "./signing.js";
import { TableCache } from "./tables.js";

export interface SharingServerOptions {
  /** The catalog to serve; or `configFile`, a reference-server YAML config. */
  catalog?: SharingCatalog;
  configFile?: string;
  /** Default: the config's host, else 127.0.0.1. */
  host?: string;
  /** Default: the config's port, else 0 (a free port). */
  port?: number;
  /** Path prefix of the API. Default: the config's endpoint, else `/delta-sharing`. */
  endpoint?: string;
  /** Origin used in file URLs and reported as `url`, e.g. `https://sharing.example.com` behind a proxy. */
  publicUrl?: string;
  /** Lifetime of pre-signed file URLs. Default: the config's value, else 3600. */
  preSignedUrlTimeoutSeconds?: number;
  /** Largest page a listing returns, whatever `maxResults` asks. Default 500. */
  maxResultsCap?: number;
  /** Role STS assumes for temporary table credentials of tables in S3. Default: $ARCUATE_S3_ROLE_ARN; none, none offered. */
  temporaryCredentialsRoleArn?: string;
  /** Where internal errors are logged. Default: stderr. */
  log?: Logger;
  /** The audit log of recipient requests (audit-log.ts); none when absent. */
  audit?: AuditOptions;
  /** CIDR ranges of reverse proxies whose X-Forwarded-For names the client (access-limits.ts). Default: none, the header is ignored. */
  trustedProxies?: string[];
  /** Rate limit of recipients that have none of their own. Default: none. */
  defaultRateLimit?: RateLimit;
}

export interface SharingServer {
  /** The endpoint recipients put in their profile, e.g. `http://127.0.0.1:8080/delta-sharing`. */
  url: string;
  /** The path prefix, e.g. `/delta-sharing`. */
  endpoint: string;
  host: string;
  port: number;
  /** The audit log, when one is kept; `flush()` appends what is queued. */
  audit: AuditLog | undefined;
  close(): Promise<void>;
}

export async function startSharingServer(options: SharingServerOptions): Promise<SharingServer> {
  const catalog =
    options.catalog ?? (options.configFile ? await YamlCatalog.open(options.configFile) : undefined);
  if (!catalog) throw badRequest("sharing: startSharingServer needs a catalog or a configFile");
  const settings = catalog.settings ?? {};
  const host = options.host ?? settings.host ?? "127.0.0.1";
  const port = options.port ?? settings.port ?? 0;
  const endpoint = normaliseEndpoint(options.endpoint ?? settings.endpoint ?? "/delta-sharing");
  const ttlSeconds = options.preSignedUrlTimeoutSeconds ?? settings.preSignedUrlTimeoutSeconds ?? 3600;
  const key = await catalog.signingKey();
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const audit = options.audit ? new AuditLog(options.audit, log) : undefined;
  const app = new SharingApp(catalog, {
    prefix: endpoint,
    signer: new UrlSigner(key, ttlSeconds * 1000),
    pages: new PageTokens(key, options.maxResultsCap ?? DEFAULT_MAX_RESULTS_CAP),
    publicUrl: options.publicUrl?.replace(/\/+$/, ""),
    log,
    directory: directoryAccessFrom(options.temporaryCredentialsRoleArn, ttlSeconds),
    asyncQueries: new AsyncQueries(key),
    audit,
    limits: new AccessLimits({
      ...(options.trustedProxies ? { trustedProxies: options.trustedProxies } : {}),
      ...(options.defaultRateLimit ? { defaultRateLimit: options.defaultRateLimit } : {}),
    }),
  });
  const server = createServer({ requestTimeout: 300_000 }, (req, res) => void app.handle(req, res));
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  // Listening on every interface: loopback is the one address sure to reach it from here.
  const reachable = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  const origin = options.publicUrl?.replace(/\/+$/, "") ?? `http://${formatHost(reachable)}:${address.port}`;
  app.defaultOrigin = `http://${formatHost(reachable)}:${address.port}`;
  return {
    url: `${origin}${endpoint}`,
    endpoint,
    host,
    port: address.port,
    audit,
    close: async () => {
      await closeServer(server);
      await audit?.close();
    },
  };
}

interface AppOptions {
  prefix: string;
  signer: UrlSigner;
  pages: PageTokens;
  publicUrl: string | undefined;
  log: Logger;
  directory: DirectoryAccess | undefined;
  asyncQueries: AsyncQueries;
  audit: AuditLog | undefined;
  limits: AccessLimits;
}

/** Routes and handlers; `handle` never throws and never leaves a request unanswered. */
class SharingApp {
  defaultOrigin = "http://127.0.0.1";
  private readonly tables = new TableCache();
  private readonly prefixSegments: string[];
  private readonly routes: Route[];

  constructor(
    private readonly catalog: SharingCatalog,
    private readonly options: AppOptions,
  ) {
    this.prefixSegments = options.prefix.split("/").filter((s) => s !== "");
    const T = "shares/:share/schemas/:schema/tables/:table";
    // Handlers run after authentication, which adds `view` and `principal` to the context.
    const on = (method: string, pattern: string, h: (ctx: Ctx) => Promise<void>) =>
      route(method, pattern, (ctx) => h(ctx as Ctx));
    this.routes = [
      on("GET", "shares", (ctx) => this.listShares(ctx)),
      on("GET", "shares/:share", (ctx) => this.getShare(ctx)),
      on("GET", "shares/:share/schemas", (ctx) => this.listSchemas(ctx)),
      on("GET", "shares/:share/schemas/:schema/tables", (ctx) => this.listTables(ctx)),
      on("GET", "shares/:share/all-tables", (ctx) => this.listAllTables(ctx)),
      on("GET", `${T}/version`, (ctx) => this.version(ctx)),
      on("HEAD", T, (ctx) => this.version(ctx)),
      on("GET", `${T}/metadata`, (ctx) => this.metadata(ctx)),
      on("POST", `${T}/query`, (ctx) => this.query(ctx)),
      on("GET", `${T}/changes`, (ctx) => this.changes(ctx)),
      on("POST", `${T}/queries/:queryId`, async (ctx) => {
        const caps = parseCapabilities(header(ctx.req, CAPABILITIES_HEADER));
        const answer = await options.asyncQueries.info(
          this.served(ctx),
          caps,
          ctx.params.queryId!,
          await readJsonBody(ctx.req),
        );
        await this.stream(ctx, answer, caps.includeEndStreamAction);
      }),
      on("POST", `${T}/temporary-table-credentials`, async (ctx) => {
        const body = await readJsonBody(ctx.req);
        sendJson(
          ctx.res,
          200,
          await temporaryTableCredentials(this.served(ctx), body, this.options.directory),
        );
      }),
      ...modelRoutes({ tables: this.tables, pages: options.pages, directory: options.directory }),
    ];
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let trail: AccessTrail | undefined;
    try {
      if (await answerProbe(req, res, this.catalog, this.options.log)) return;
      const address = this.options.limits.clientAddress(req);
      trail = this.audit(req, res, address);
      if (await answerActivation(req, res, this.catalog, trail)) return;
      const method = (req.method ?? "GET").toUpperCase();
      const target = splitTarget(req.url ?? "/", this.prefixSegments);
      if (!target) throw new NotFoundError("sharing: no such endpoint");
      const { segments, query } = target;
      const ctx: RequestContext = { req, res, method, segments, params: {}, query };
      trail?.asked(query);
      if (segments[0] === "files" && segments.length === 2 && (method === "GET" || method === "HEAD")) {
        await this.file(ctx, segments[1]!, trail, address);
        return;
      }
      // Authenticate before routing, so that nothing about the API is learnt without a token.
      const view = await this.catalog.view();
      if (method === "POST" && segments.length === 2 && segments[0] === "oauth" && segments[1] === "token") {
        trail?.operation("token");
        const principal = await answerTokenRequest(req, res, view);
        if (principal) trail?.principal(principal);
        return;
      }
      const principal = authenticate(view, req);
      trail?.principal(principal);
      const found = match(this.routes, method, segments);
      if (found) trail?.route(method, found.route.pattern, found.params);
      this.options.limits.admit(principal, address);
      if (!found)
        throw new NotFoundError(
          `sharing: no such endpoint: ${method} ${this.options.prefix}/${segments.join("/")}`.slice(0, 300),
        );
      ctx.params = found.params;
      await found.route.handler(Object.assign(ctx, { view, principal, trail }));
    } catch (error) {
      trail?.failed(error);
      renderError(res, error, this.options.log);
    }
  }

  /** Starts the audit record of a request (none without an audit log); it is queued when the response closes. */
  private audit(req: IncomingMessage, res: ServerResponse, address: string | null): AccessTrail | undefined {
    const log = this.options.audit;
    if (!log) return undefined;
    const trail = new AccessTrail(req, address);
    res.setHeader("X-Request-Id", trail.record.requestId);
    res.once("close", () => log.record(trail.finish(res)));
    return trail;
  }

  // -------------------------------------------------------------------------------------------
  // Listings

  private async listShares(ctx: Ctx): Promise<void> {
    const listing = "shares";
    const request = this.options.pages.request(ctx.query, ctx.principal.id, listing);
    const page = this.options.pages.page(ctx.view.shares(ctx.principal), request, ctx.principal.id, listing);
    sendJson(ctx.res, 200, { items: page.items.map(shareItem), ...next(page) });
  }

  private async getShare(ctx: Ctx): Promise<void> {
    sendJson(ctx.res, 200, { share: shareItem(this.share(ctx)) });
  }

  private async listSchemas(ctx: Ctx): Promise<void> {
    const share = this.share(ctx);
    const listing = `schemas\n${nameKey(share.name)}`;
    const request = this.options.pages.request(ctx.query, ctx.principal.id, listing);
    const page = this.options.pages.page(sortedByName(share.schemas), request, ctx.principal.id, listing);
    sendJson(ctx.res, 200, {
      items: page.items.map((s) => ({ name: s.name, share: share.name })),
      ...next(page),
    });
  }

  private async listTables(ctx: Ctx): Promise<void> {
    const share = this.share(ctx);
    const schemaName = checkedName("schema", ctx.params.schema!);
    const schema = byNameKey(share.schemas, schemaName);
    if (!schema) throw new NotFoundError(`sharing: schema '${share.name}.${schemaName}' does not exist`);
    const listing = `tables\n${nameKey(share.name)}\n${nameKey(schema.name)}`;
    const request = this.options.pages.request(ctx.query, ctx.principal.id, listing);
    const page = this.options.pages.page(sortedByName(schema.tables), request, ctx.principal.id, listing);
    sendJson(ctx.res, 200, {
      items: page.items.map((t) => tableItem(share, schema.name, t, this.options.directory)),
      ...next(page),
    });
  }

  private async listAllTables(ctx: Ctx): Promise<void> {
    const share = this.share(ctx);
    const listing = `all-tables\n${nameKey(share.name)}`;
    const request = this.options.pages.request(ctx.query, ctx.principal.id, listing);
    // Keyed "schema.table" (a '.' cannot occur in either name), so pages follow schema then table.
    const all = sortedByName(
      share.schemas.flatMap((schema) =>
        schema.tables.map((table) => ({ name: `${schema.name}.${table.name}`, schema: schema.name, table })),
      ),
    );
    const page = this.options.pages.page(all, request, ctx.principal.id, listing);
    sendJson(ctx.res, 200, {
      items: page.items.map((t) => tableItem(share, t.schema, t.table, this.options.directory)),
      ...next(page),
    });
  }

  // -------------------------------------------------------------------------------------------
  // Tables

  private async version(ctx: Ctx): Promise<void> {
    const t = this.served(ctx);
    const version = await tableVersion(t, ctx.method === "HEAD" ? null : ctx.query.get("startingTimestamp"));
    ctx.res.writeHead(200, { [TABLE_VERSION_HEADER]: String(version), "Content-Length": 0 });
    ctx.res.end();
  }

  private async metadata(ctx: Ctx): Promise<void> {
    const t = this.served(ctx);
    await this.stream(
      ctx,
      withAccessFields(
        await prepareMetadata(t, parseCapabilities(header(ctx.req, CAPABILITIES_HEADER)), ctx.query),
        accessFields(t.entry, this.options.directory),
      ),
      false,
    );
  }

  private async query(ctx: Ctx): Promise<void> {
    const t = this.served(ctx);
    const raw = await readJsonBody(ctx.req);
    ctx.trail?.asked(raw);
    const body = parseQueryBody(raw);
    const caps = parseCapabilities(header(ctx.req, CAPABILITIES_HEADER));
    const idScheme = fileIdHash(ctx.req);
    const submitted = caps.asyncQuery ? await this.options.asyncQueries.submit(t, caps, body) : undefined;
    if (submitted) {
      await this.stream(ctx, withFileIdHash(submitted, idScheme), false);
      return;
    }
    await this.stream(
      ctx,
      withFileIdHash(await prepareQuery(t, caps, body), idScheme),
      caps.includeEndStreamAction,
    );
  }

  private async changes(ctx: Ctx): Promise<void> {
    const t = this.served(ctx);
    const caps = parseCapabilities(header(ctx.req, CAPABILITIES_HEADER));
    const idScheme = fileIdHash(ctx.req);
    await this.stream(
      ctx,
      withFileIdHash(await prepareChanges(t, caps, ctx.query), idScheme),
      caps.includeEndStreamAction,
    );
  }

  /** Writes a prepared NDJSON response line by line; a failure mid-stream ends it with an error action when the client asked for one. */
  private async stream(ctx: Ctx, prepared: Prepared, endStreamAction: boolean): Promise<void> {
    ctx.res.writeHead(200, prepared.headers);
    if (ctx.method === "HEAD") {
      ctx.res.end();
      return;
    }
    const writer = new NdjsonWriter(ctx.res);
    if (prepared.handedOut) ctx.trail?.counting(prepared.handedOut);
    try {
      for (const line of prepared.lines()) {
        if (writer.push(line)) await writer.flush();
        if (ctx.res.destroyed) return;
      }
    } catch (error) {
      this.options.log(
        `sharing: response failed mid-stream: ${error instanceof Error ? error.message : String(error)}`,
      );
      if (!endStreamAction) {
        ctx.res.destroy();
        return;
      }
      await writer.line({
        endStreamAction: { errorMessage: "sharing: the server failed while sending the response" },
      });
    }
    await writer.end();
  }

  // -------------------------------------------------------------------------------------------
  // Files

  private async file(
    ctx: RequestContext,
    payload: string,
    trail: AccessTrail | undefined,
    address: string | null,
  ): Promise<void> {
    const now = Date.now();
    trail?.operation("file");
    const ref = this.options.signer.verify(payload, ctx.query, now);
    trail?.target(ref.s, ref.c, ref.t);
    // The grant is checked again: revoking a share or dropping a recipient stops its URLs too.
    const view = await this.catalog.view();
    const principal = view.principal?.(ref.r);
    if (trail) trail.principal(principal ?? { id: ref.r, name: ref.r });
    // A leaked URL is held to the recipient's addresses too; downloads do not count against its rate.
    if (principal) this.options.limits.admit(principal, address, false);
    const denied = () => new AuthError("sharing: file URL is no longer valid", { code: "PERMISSION_DENIED" });
    const share = view.share({ id: ref.r, name: ref.r }, ref.s);
    const schema = share && byNameKey(share.schemas, ref.c);
    const table = schema && byNameKey(schema.tables, ref.t);
    if (!table) throw denied();
    const path = await resolveTableFile(table.location, ref.p);
    await sendFile(ctx.res, path, header(ctx.req, "range"), ctx.method === "HEAD");
  }

  // -------------------------------------------------------------------------------------------

  /** The share named in the path, if the principal may see it; otherwise the same 404 as for a share that does not exist. */
  private share(ctx: Ctx): ShareEntry {
    const name = checkedName("share", ctx.params.share!);
    const share = ctx.view.share(ctx.principal, name);
    if (!share) throw new NotFoundError(`sharing: share '${name}' does not exist`);
    return share;
  }

  private served(ctx: Ctx): ServedTable {
    const share = this.share(ctx);
    const schemaName = checkedName("schema", ctx.params.schema!);
    const tableName = checkedName("table", ctx.params.table!);
    const schema = byNameKey(share.schemas, schemaName);
    const entry = schema && byNameKey(schema.tables, tableName);
    if (!schema || !entry)
      throw new NotFoundError(`sharing: table '${share.name}.${schemaName}.${tableName}' does not exist`);
    return {
      share: share.name,
      schema: schema.name,
      entry,
      principalId: ctx.principal.id,
      tables: this.tables,
      signer: this.options.signer,
      tokens: this.options.pages,
      base: `${this.origin(ctx.req)}${this.options.prefix}`,
      now: Date.now(),
    };
  }

  /** Origin for file URLs: the configured public URL, else the Host the client used (when it is a plain host[:port]). */
  private origin(req: IncomingMessage): string {
    if (this.options.publicUrl) return this.options.publicUrl;
    const host = req.headers.host;
    if (host && /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:\d{1,5})?$/.test(host))
      return `http://${host}`;
    return this.defaultOrigin;
  }
}

type Ctx = RequestContext & { view: CatalogView; principal: Principal; trail: AccessTrail | undefined };

function authenticate(view: CatalogView, req: IncomingMessage): Principal {
  const auth = header(req, "authorization");
  let token: string | undefined;
  if (auth !== undefined) {
    const m = /^\s*bearer\s+(\S+)\s*$/i.exec(auth);
    token = m ? m[1] : "";
  }
  const result = view.authenticate(token, Date.now());
  if (result.ok) return result.principal;
  const message =
    result.reason === "missing"
      ? "sharing: a bearer token is required (Authorization: Bearer <token>)"
      : result.reason === "expired"
        ? "sharing: the bearer token has expired"
        : "sharing: the bearer token is not valid";
  throw new AuthError(message);
}

/** The `fileidhash` header (#file-id-hash-header): `parquet` or `delta`, echoed; anything else is 400. */
function fileIdHash(req: IncomingMessage): string | undefined {
  const raw = header(req, "fileidhash");
  if (raw === undefined) return undefined;
  const value = raw.trim().toLowerCase();
  if (value !== "parquet" && value !== "delta")
    throw badRequest(`sharing: fileidhash must be parquet or delta, not '${raw.slice(0, 40)}'`);
  return value;
}

function withFileIdHash(prepared: Prepared, scheme: string | undefined): Prepared {
  return scheme === undefined
    ? prepared
    : { ...prepared, headers: { ...prepared.headers, fileidhash: scheme } };
}

function checkedName(kind: NameKind, name: string): string {
  const problem = nameProblem(kind, name);
  if (problem) throw badRequest(`sharing: ${problem.slice(0, 300)}`);
  return name;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** #list-shares: displayName, comment and properties only when the provider set them. */
function shareItem(share: ShareEntry): Share {
  const item: Share = { name: share.name, id: share.id };
  if (share.displayName !== undefined) item.displayName = share.displayName;
  if (share.comment !== undefined) item.comment = share.comment;
  if (share.properties !== undefined && Object.keys(share.properties).length > 0)
    item.properties = share.properties;
  return item;
}

function tableItem(
  share: ShareEntry,
  schema: string,
  table: TableEntry,
  directory: DirectoryAccess | undefined,
) {
  return {
    name: table.name,
    schema,
    share: share.name,
    shareId: share.id,
    id: table.id,
    ...accessFields(table, directory),
  };
}

function next(page: { nextPageToken?: string }): { nextPageToken?: string } {
  return page.nextPageToken === undefined ? {} : { nextPageToken: page.nextPageToken };
}

function normaliseEndpoint(endpoint: string): string {
  const trimmed = `/${endpoint
    .split("/")
    .filter((s) => s !== "")
    .join("/")}`;
  return trimmed === "/" ? "" : trimmed;
}

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
