// The catalog's rules over any store (store.ts): shares, tables, recipients, tokens and grants,
// each change a function of the freshest state applied atomically by the store.
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { DeltaTable } from "../../delta/index.js";
import { isS3Location } from "../../delta/s3-location.js";
import { ArcuateError, ConflictError, NotFoundError } from "../../errors.js";
import { nameKey, type OAuthProfile, type Profile } from "../protocol.js";
import {
  activationUrl,
  DEFAULT_ACTIVATION_SECONDS,
  newActivationCode,
  redeemActivation,
} from "./activation.js";
import type {
  ActivationLink,
  Catalog,
  OAuthOptions,
  OAuthRecipientCredentials,
  RecipientCredentials,
  RecipientInfo,
  ShareInfo,
  TableInfo,
  TokenOptions,
} from "./catalog.js";
import { writeFileAtomic } from "./files.js";
import { DEFAULT_ACCESS_TOKEN_SECONDS, newClientSecret } from "./oauth.js";
import { applyRecipientLimits, type RecipientLimitsChange } from "./recipient-limits.js";
import { checkEndpoint, checkName, checkRecipientName, expiry, tableLocationPath } from "./rules.js";
import type { Secrets } from "./secrets.js";
import { applyShareDetails, type ShareDetailsChange } from "./share-details.js";
import {
  type ActivationResult,
  byNameKey,
  type CatalogState,
  type CatalogView,
  DEFAULT_ENDPOINT,
  type RecipientEntry,
  type ShareEntry,
  sortedByName,
} from "./state.js";
import type { CatalogStore } from "./store.js";
import { hashToken, newRecipientId, newToken } from "./tokens.js";

export class StoredCatalog implements Catalog {
  readonly dir: string;
  readonly statePath: string;
  private readonly secrets: Secrets;

  constructor(private readonly store: CatalogStore) {
    this.dir = store.dir;
    this.statePath = store.statePath;
    this.secrets = store.secrets;
  }

  // -------------------------------------------------------------------------------------------
  // Reading

  async state(): Promise<CatalogState> {
    return (await this.store.load()).state;
  }

  view(): Promise<CatalogView> {
    return this.store.view();
  }

  check(): Promise<void> {
    return this.store.check();
  }

  close(): Promise<void> {
    return this.store.close();
  }

  async signingKey(): Promise<Buffer> {
    return this.secrets.signingKey;
  }

  async endpoint(): Promise<string> {
    return (await this.state()).endpoint ?? DEFAULT_ENDPOINT;
  }

  async listShares(): Promise<ShareInfo[]> {
    const state = await this.state();
    return sortedByName(state.shares).map((share) => shareInfo(state, share));
  }

  async getShare(name: string): Promise<ShareInfo> {
    const state = await this.state();
    return shareInfo(state, requireShare(state, name));
  }

  async listRecipients(): Promise<RecipientInfo[]> {
    const state = await this.state();
    return sortedByName(state.recipients).map((r) => recipientInfo(state, r));
  }

  async listGrants(
    filter: { share?: string; recipient?: string } = {},
  ): Promise<Array<{ share: string; recipient: string; grantedAt: string }>> {
    const state = await this.state();
    return state.grants
      .filter((g) => filter.share === undefined || nameKey(g.share) === nameKey(filter.share))
      .filter((g) => filter.recipient === undefined || nameKey(g.recipient) === nameKey(filter.recipient))
      .map((g) => ({ ...g }));
  }

  // -------------------------------------------------------------------------------------------
  // Shares and tables

  async setEndpoint(endpoint: string): Promise<void> {
    checkEndpoint(endpoint);
    await this.update((state) => {
      state.endpoint = endpoint;
    });
  }

  async createShare(
    name: string,
    options: { comment?: string; ifNotExists?: boolean } = {},
  ): Promise<ShareInfo> {
    checkName("share", name);
    return this.update((state) => {
      const existing = byNameKey(state.shares, name);
      if (existing) {
        if (options.ifNotExists) return shareInfo(state, existing);
        throw new ConflictError(`catalog: share '${name}' already exists`, {
          code: "RESOURCE_ALREADY_EXISTS",
        });
      }
      const share: ShareEntry = { name, id: randomUUID(), createdAt: new Date().toISOString(), schemas: [] };
      if (options.comment !== undefined) share.comment = options.comment;
      state.shares.push(share);
      return shareInfo(state, share);
    });
  }

  async alterShare(name: string, change: ShareDetailsChange): Promise<ShareInfo> {
    return this.update((state) => {
      const share = requireShare(state, name);
      applyShareDetails(share, change);
      return shareInfo(state, share);
    });
  }

  /**
   * Adds the Delta table at `location` to `share` as `schema.table` (the schema is created when
   * needed). With `replace`, an existing entry of that name is pointed at the new location.
   */
  async addTable(
    share: string,
    schema: string,
    table: string,
    location: string,
    options: { historyShared?: boolean; replace?: boolean } = {},
  ): Promise<TableInfo> {
    checkName("schema", schema);
    checkName("table", table);
    const path = tableLocationPath(location);
    // A table in a bucket is opened (which names what is wrong: bucket, credentials, endpoint).
    if (isS3Location(path) ? !(await DeltaTable.open(path)) : !existsSync(join(path, "_delta_log"))) {
      throw new NotFoundError(`catalog: no Delta table at '${location}' (it has no _delta_log folder)`);
    }
    return this.update((state) => {
      const shareEntry = requireShare(state, share);
      let schemaEntry = byNameKey(shareEntry.schemas, schema);
      if (!schemaEntry) {
        schemaEntry = { name: schema, tables: [] };
        shareEntry.schemas.push(schemaEntry);
      }
      const existing = byNameKey(schemaEntry.tables, table);
      if (existing && !options.replace) {
        throw new ConflictError(`catalog: table '${share}.${schema}.${table}' already exists`, {
          code: "RESOURCE_ALREADY_EXISTS",
        });
      }
      const entry = existing ?? {
        name: table,
        id: randomUUID(),
        location: path,
        historyShared: true,
        addedAt: new Date().toISOString(),
      };
      entry.location = path;
      entry.historyShared = options.historyShared ?? true;
      if (!existing) schemaEntry.tables.push(entry);
      return tableInfo(shareEntry.name, schemaEntry.name, entry);
    });
  }

  /** Removes a table from a share; a schema left empty goes with it. */
  async removeTable(share: string, schema: string, table: string): Promise<void> {
    await this.update((state) => {
      const shareEntry = requireShare(state, share);
      const schemaEntry = byNameKey(shareEntry.schemas, schema);
      const entry = schemaEntry && byNameKey(schemaEntry.tables, table);
      if (!schemaEntry || !entry)
        throw new NotFoundError(`catalog: table '${share}.${schema}.${table}' does not exist`);
      schemaEntry.tables = schemaEntry.tables.filter((t) => t !== entry);
      if (schemaEntry.tables.length === 0)
        shareEntry.schemas = shareEntry.schemas.filter((s) => s !== schemaEntry);
    });
  }

  /** Drops a share and its grants (the Delta tables themselves are left alone). */
  async dropShare(name: string, options: { ifExists?: boolean } = {}): Promise<boolean> {
    return this.update((state) => {
      const share = byNameKey(state.shares, name);
      if (!share) {
        if (options.ifExists) return false;
        throw new NotFoundError(`catalog: share '${name}' does not exist`);
      }
      state.shares = state.shares.filter((s) => s !== share);
      state.grants = state.grants.filter((g) => nameKey(g.share) !== nameKey(name));
      return true;
    });
  }

  // -------------------------------------------------------------------------------------------
  // Recipients and grants

  /** Creates a recipient, returns its token (shown once) and writes its profile file. */
  async createRecipient(
    name: string,
    options: TokenOptions & { comment?: string } = {},
  ): Promise<RecipientCredentials> {
    return (await this.addRecipient(name, options)) as RecipientCredentials;
  }

  async createOAuthRecipient(
    name: string,
    options: TokenOptions & OAuthOptions & { comment?: string } = {},
  ): Promise<OAuthRecipientCredentials> {
    return (await this.addRecipient(name, { ...options, oauth: options })) as OAuthRecipientCredentials;
  }

  async createRecipientWithActivationLink(
    name: string,
    options: TokenOptions & { comment?: string; oauth?: OAuthOptions; linkExpiresInSeconds?: number } = {},
  ): Promise<ActivationLink> {
    const seconds = options.linkExpiresInSeconds ?? DEFAULT_ACTIVATION_SECONDS;
    if (!(seconds > 0))
      throw new ArcuateError(
        "INVALID_PARAMETER_VALUE",
        `catalog: a link's lifetime must be positive, not ${seconds}`,
      );
    return (await this.addRecipient(name, { ...options, activationSeconds: seconds })) as ActivationLink;
  }

  async activate(code: string, now: number): Promise<ActivationResult> {
    return this.update((state) => redeemActivation(state, this.secrets.pepper, code, now));
  }

  private async addRecipient(
    name: string,
    options: TokenOptions & { comment?: string; oauth?: OAuthOptions; activationSeconds?: number },
  ): Promise<RecipientCredentials | OAuthRecipientCredentials | ActivationLink> {
    checkRecipientName(name);
    const expiresAt = expiry(options);
    const id = newRecipientId();
    // An OAuth recipient's bearer token is never shown: only its client secret opens the way.
    const token = newToken(id);
    const secret = options.oauth ? newClientSecret(id) : undefined;
    // With a link, the credentials made here are never shown (so never usable): activation replaces them.
    const code = options.activationSeconds === undefined ? undefined : newActivationCode(id);
    const linkExpiresAt =
      options.activationSeconds === undefined
        ? undefined
        : new Date(Date.now() + options.activationSeconds * 1000).toISOString();
    const info = await this.update((state) => {
      if (byNameKey(state.recipients, name)) {
        throw new ConflictError(`catalog: recipient '${name}' already exists`, {
          code: "RESOURCE_ALREADY_EXISTS",
        });
      }
      const entry: RecipientEntry = {
        name,
        id,
        createdAt: new Date().toISOString(),
        tokenHash: hashToken(this.secrets.pepper, token),
      };
      if (options.comment !== undefined) entry.comment = options.comment;
      if (expiresAt !== undefined) entry.expiresAt = expiresAt;
      if (secret !== undefined) {
        entry.clientSecretHash = hashToken(this.secrets.pepper, secret);
        entry.accessTokenSeconds = options.oauth?.accessTokenSeconds ?? DEFAULT_ACCESS_TOKEN_SECONDS;
      }
      const endpoint = options.endpoint ?? state.endpoint ?? DEFAULT_ENDPOINT;
      if (code !== undefined && linkExpiresAt !== undefined)
        entry.activation = {
          codeHash: hashToken(this.secrets.pepper, code),
          expiresAt: linkExpiresAt,
          endpoint,
        };
      state.recipients.push(entry);
      return { info: recipientInfo(state, entry), endpoint };
    });
    if (code !== undefined && linkExpiresAt !== undefined)
      return { recipient: info.info, url: activationUrl(info.endpoint, code), expiresAt: linkExpiresAt };
    if (secret !== undefined) return this.writeOAuthProfile(info.info, secret, info.endpoint);
    return this.writeProfile(info.info, token, info.endpoint, expiresAt);
  }

  /**
   * Issues a new token for a recipient. The old token stops working at once, or after
   * `graceSeconds` so that the recipient can switch over.
   */
  async rotateRecipient(
    name: string,
    options: TokenOptions & { graceSeconds?: number } = {},
  ): Promise<RecipientCredentials> {
    const expiresAt = expiry(options);
    const info = await this.update((state) => {
      const entry = byNameKey(state.recipients, name);
      if (!entry) throw new NotFoundError(`catalog: recipient '${name}' does not exist`);
      if (entry.clientSecretHash !== undefined) {
        throw new ArcuateError(
          "INVALID_PARAMETER_VALUE",
          `catalog: recipient '${entry.name}' has OAuth client credentials, not a bearer token: rotate its client secret instead`,
        );
      }
      const token = newToken(entry.id);
      delete entry.previousTokenHash;
      delete entry.previousExpiresAt;
      const previousEnd = graceEnd(entry.expiresAt, options.graceSeconds);
      if (previousEnd !== undefined) {
        entry.previousTokenHash = entry.tokenHash;
        entry.previousExpiresAt = previousEnd;
      }
      entry.tokenHash = hashToken(this.secrets.pepper, token);
      if (expiresAt !== undefined) entry.expiresAt = expiresAt;
      else delete entry.expiresAt;
      return {
        info: recipientInfo(state, entry),
        token,
        endpoint: options.endpoint ?? state.endpoint ?? DEFAULT_ENDPOINT,
      };
    });
    return this.writeProfile(info.info, info.token, info.endpoint, expiresAt);
  }

  /**
   * Issues a new client secret to an OAuth recipient and rewrites its profile. The old secret and
   * the access tokens it got stop working at once, or after `graceSeconds`.
   */
  async rotateClientSecret(
    name: string,
    options: TokenOptions & { graceSeconds?: number } = {},
  ): Promise<OAuthRecipientCredentials> {
    const expiresAt = expiry(options);
    const info = await this.update((state) => {
      const entry = byNameKey(state.recipients, name);
      if (!entry) throw new NotFoundError(`catalog: recipient '${name}' does not exist`);
      if (entry.clientSecretHash === undefined) {
        throw new ArcuateError(
          "INVALID_PARAMETER_VALUE",
          `catalog: recipient '${entry.name}' has a bearer token, not OAuth client credentials: rotate its token instead`,
        );
      }
      const secret = newClientSecret(entry.id);
      delete entry.previousClientSecretHash;
      delete entry.previousExpiresAt;
      const previousEnd = graceEnd(entry.expiresAt, options.graceSeconds);
      if (previousEnd !== undefined) {
        entry.previousClientSecretHash = entry.clientSecretHash;
        entry.previousExpiresAt = previousEnd;
      }
      entry.clientSecretHash = hashToken(this.secrets.pepper, secret);
      if (expiresAt !== undefined) entry.expiresAt = expiresAt;
      else delete entry.expiresAt;
      return {
        info: recipientInfo(state, entry),
        secret,
        endpoint: options.endpoint ?? state.endpoint ?? DEFAULT_ENDPOINT,
      };
    });
    return this.writeOAuthProfile(info.info, info.secret, info.endpoint);
  }

  async alterRecipient(name: string, change: RecipientLimitsChange): Promise<RecipientInfo> {
    return this.update((state) => {
      const entry = byNameKey(state.recipients, name);
      if (!entry) throw new NotFoundError(`catalog: recipient '${name}' does not exist`);
      applyRecipientLimits(entry, change);
      return recipientInfo(state, entry);
    });
  }

  /** Drops a recipient, its grants and its profile file; its token stops working at once. */
  async dropRecipient(name: string, options: { ifExists?: boolean } = {}): Promise<boolean> {
    const dropped = await this.update((state) => {
      const entry = byNameKey(state.recipients, name);
      if (!entry) {
        if (options.ifExists) return undefined;
        throw new NotFoundError(`catalog: recipient '${name}' does not exist`);
      }
      state.recipients = state.recipients.filter((r) => r !== entry);
      state.grants = state.grants.filter((g) => nameKey(g.recipient) !== nameKey(name));
      return entry.name;
    });
    if (dropped === undefined) return false;
    await rm(this.profilePath(dropped), { force: true });
    return true;
  }

  async grant(share: string, recipient: string): Promise<void> {
    await this.update((state) => {
      const shareEntry = requireShare(state, share);
      const recipientEntry = byNameKey(state.recipients, recipient);
      if (!recipientEntry) throw new NotFoundError(`catalog: recipient '${recipient}' does not exist`);
      const exists = state.grants.some(
        (g) => nameKey(g.share) === nameKey(share) && nameKey(g.recipient) === nameKey(recipient),
      );
      if (!exists) {
        state.grants.push({
          share: shareEntry.name,
          recipient: recipientEntry.name,
          grantedAt: new Date().toISOString(),
        });
      }
    });
  }

  /** Revokes a grant; returns whether there was one. */
  async revoke(share: string, recipient: string): Promise<boolean> {
    return this.update((state) => {
      const before = state.grants.length;
      state.grants = state.grants.filter(
        (g) => !(nameKey(g.share) === nameKey(share) && nameKey(g.recipient) === nameKey(recipient)),
      );
      return state.grants.length !== before;
    });
  }

  profilePath(recipient: string): string {
    return join(this.dir, "profiles", `${recipient}.share`);
  }

  // -------------------------------------------------------------------------------------------

  /** The version 2 `oauth_client_credentials` profile: the server's token endpoint, client id and secret. */
  private async writeOAuthProfile(
    recipient: RecipientInfo,
    secret: string,
    endpoint: string,
  ): Promise<OAuthRecipientCredentials> {
    const profile: OAuthProfile = {
      shareCredentialsVersion: 2,
      type: "oauth_client_credentials",
      endpoint,
      tokenEndpoint: `${endpoint.replace(/\/+$/, "")}/oauth/token`,
      clientId: recipient.id,
      clientSecret: secret,
    };
    const profilePath = this.profilePath(recipient.name);
    await mkdir(dirname(profilePath), { recursive: true, mode: 0o700 });
    await writeFileAtomic(profilePath, `${JSON.stringify(profile, null, 2)}\n`, 0o600);
    return { recipient, clientSecret: secret, profile, profilePath };
  }

  private async writeProfile(
    recipient: RecipientInfo,
    token: string,
    endpoint: string,
    expiresAt: string | undefined,
  ): Promise<RecipientCredentials> {
    const profile: Profile = { shareCredentialsVersion: 1, endpoint, bearerToken: token };
    if (expiresAt !== undefined) profile.expirationTime = expiresAt;
    const profilePath = this.profilePath(recipient.name);
    await mkdir(dirname(profilePath), { recursive: true, mode: 0o700 });
    await writeFileAtomic(profilePath, `${JSON.stringify(profile, null, 2)}\n`, 0o600);
    return { recipient, token, profile, profilePath };
  }

  private update<T>(change: (state: CatalogState) => T): Promise<T> {
    return this.store.update(change);
  }
}

// ---------------------------------------------------------------------------------------------

function requireShare(state: CatalogState, name: string): ShareEntry {
  const share = byNameKey(state.shares, name);
  if (!share) throw new NotFoundError(`catalog: share '${name}' does not exist`);
  return share;
}

function shareInfo(state: CatalogState, share: ShareEntry): ShareInfo {
  const info: ShareInfo = {
    name: share.name,
    id: share.id,
    createdAt: share.createdAt,
    tables: sortedByName(share.schemas).flatMap((schema) =>
      sortedByName(schema.tables).map((table) => tableInfo(share.name, schema.name, table)),
    ),
    recipients: state.grants.filter((g) => nameKey(g.share) === nameKey(share.name)).map((g) => g.recipient),
  };
  if (share.displayName !== undefined) info.displayName = share.displayName;
  if (share.comment !== undefined) info.comment = share.comment;
  if (share.properties !== undefined) info.properties = { ...share.properties };
  return info;
}

function tableInfo(
  share: string,
  schema: string,
  table: ShareEntry["schemas"][number]["tables"][number],
): TableInfo {
  return {
    share,
    schema,
    name: table.name,
    id: table.id,
    location: table.location,
    historyShared: table.historyShared,
  };
}

function recipientInfo(state: CatalogState, r: RecipientEntry): RecipientInfo {
  const info: RecipientInfo = {
    name: r.name,
    id: r.id,
    createdAt: r.createdAt,
    shares: state.grants.filter((g) => nameKey(g.recipient) === nameKey(r.name)).map((g) => g.share),
  };
  if (r.comment !== undefined) info.comment = r.comment;
  if (r.expiresAt !== undefined) info.expiresAt = r.expiresAt;
  if (r.clientSecretHash !== undefined)
    info.oauth = { accessTokenSeconds: r.accessTokenSeconds ?? DEFAULT_ACCESS_TOKEN_SECONDS };
  if (r.allowedAddresses !== undefined) info.allowedAddresses = [...r.allowedAddresses];
  if (r.rateLimit !== undefined) info.rateLimit = { ...r.rateLimit };
  return info;
}

/**
 * When a rotated-out credential stops working: `graceSeconds` from now, but never later than the
 * recipient's own expiry; none without a grace period.
 */
function graceEnd(expiresAt: string | undefined, graceSeconds: number | undefined): string | undefined {
  if (graceSeconds === undefined || graceSeconds <= 0) return undefined;
  const end = Date.now() + graceSeconds * 1000;
  return new Date(expiresAt ? Math.min(Date.parse(expiresAt), end) : end).toISOString();
}
