// The provider's catalog: shares → schemas → tables (each a Delta table location), recipients with
// bearer tokens, and grants. One interface, two implementations chosen by the location:
//
//   a folder (the embedded default)   catalog.json replaced under a lock file (folder-store.ts)
//   postgres:// or postgresql://      a PostgreSQL database, shared by any number of servers and
//                                     administrators (postgres-store.ts)
//
// Both keep the same state (state.ts) and apply the same rules to it (stored.ts); a running server
// reads it through `view()`, which picks up every change without a restart.
import type { OAuthProfile, Profile } from "../protocol.js";
import { FolderStore } from "./folder-store.js";
import { isPostgresLocation, PostgresStore } from "./postgres-store.js";
import type { RateLimit, RecipientLimitsChange } from "./recipient-limits.js";
import type { ShareDetailsChange } from "./share-details.js";
import type { ActivationResult, CatalogState, CatalogView, SharingCatalog } from "./state.js";
import { StoredCatalog } from "./stored.js";

export type { RateLimit, RecipientLimitsChange } from "./recipient-limits.js";
export type { ShareDetailsChange } from "./share-details.js";
export { DEFAULT_ENDPOINT } from "./state.js";

export interface ShareInfo {
  name: string;
  id: string;
  /** Served to recipients with the share (PROTOCOL.md #list-shares), as `comment` is. */
  displayName?: string;
  comment?: string;
  properties?: Record<string, string>;
  createdAt: string;
  tables: TableInfo[];
  /** Names of the recipients holding a grant on this share. */
  recipients: string[];
}

export interface TableInfo {
  share: string;
  schema: string;
  name: string;
  id: string;
  location: string;
  historyShared: boolean;
}

export interface RecipientInfo {
  name: string;
  id: string;
  comment?: string;
  createdAt: string;
  expiresAt?: string;
  /** Present for a recipient with OAuth client credentials instead of a bearer token. */
  oauth?: { accessTokenSeconds: number };
  /** Names of the shares granted to this recipient. */
  shares: string[];
  /** CIDR ranges it may connect from; absent: anywhere. */
  allowedAddresses?: string[];
  /** Its request rate limit; absent: the server's default, if any. */
  rateLimit?: RateLimit;
}

/** An OAuth recipient's fresh credentials: the client secret is shown here once and never stored. */
export interface OAuthRecipientCredentials {
  recipient: RecipientInfo;
  clientSecret: string;
  profile: OAuthProfile;
  profilePath: string;
}

/** A recipient created with a one-time link to its profile instead of the profile. */
export interface ActivationLink {
  recipient: RecipientInfo;
  /** `<server origin>/activation/<code>`: shown here once, stored only as a hash. */
  url: string;
  expiresAt: string;
}

/** A recipient's fresh credentials: the token is shown here once and never stored. */
export interface RecipientCredentials {
  recipient: RecipientInfo;
  token: string;
  profile: Profile;
  profilePath: string;
}

export interface TokenOptions {
  /** When the token stops working: a date, or seconds from now. Absent: never. */
  expiresAt?: Date | string;
  expiresInSeconds?: number;
  /** The server URL written into the profile file; defaults to the catalog's endpoint. */
  endpoint?: string;
}

/** A recipient with OAuth 2.0 client credentials instead of a bearer token. */
export interface OAuthOptions {
  /** Lifetime of the access tokens issued to it. Default 3600. */
  accessTokenSeconds?: number;
}

export interface CatalogOpenOptions {
  /**
   * Where profile files of new recipients are written (`profiles/` under it). Default: the
   * catalog folder itself; for a database, the current directory's `.arcuate/sharing`.
   */
  workDir?: string;
}

export interface Catalog extends SharingCatalog {
  /** The folder holding `profiles/`: the catalog folder, or the working folder of a database catalog. */
  readonly dir: string;
  /** Where the state is kept, for messages: catalog.json's path, or the database URL without its password. */
  readonly statePath: string;

  state(): Promise<CatalogState>;
  view(): Promise<CatalogView>;
  signingKey(): Promise<Buffer>;
  endpoint(): Promise<string>;
  listShares(): Promise<ShareInfo[]>;
  getShare(name: string): Promise<ShareInfo>;
  listRecipients(): Promise<RecipientInfo[]>;
  listGrants(filter?: {
    share?: string;
    recipient?: string;
  }): Promise<Array<{ share: string; recipient: string; grantedAt: string }>>;

  setEndpoint(endpoint: string): Promise<void>;
  createShare(name: string, options?: { comment?: string; ifNotExists?: boolean }): Promise<ShareInfo>;
  /** Sets or clears what recipients see of a share besides its name; limits as PROTOCOL.md sets them. */
  alterShare(name: string, change: ShareDetailsChange): Promise<ShareInfo>;
  /**
   * Adds the Delta table at `location` to `share` as `schema.table` (the schema is created when
   * needed). With `replace`, an existing entry of that name is pointed at the new location.
   */
  addTable(
    share: string,
    schema: string,
    table: string,
    location: string,
    options?: { historyShared?: boolean; replace?: boolean },
  ): Promise<TableInfo>;
  /** Removes a table from a share; a schema left empty goes with it. */
  removeTable(share: string, schema: string, table: string): Promise<void>;
  /** Drops a share and its grants (the Delta tables themselves are left alone). */
  dropShare(name: string, options?: { ifExists?: boolean }): Promise<boolean>;

  /** Creates a recipient, returns its token (shown once) and writes its profile file. */
  createRecipient(name: string, options?: TokenOptions & { comment?: string }): Promise<RecipientCredentials>;
  /** Creates a recipient with OAuth client credentials and writes its version 2 profile. */
  createOAuthRecipient(
    name: string,
    options?: TokenOptions & OAuthOptions & { comment?: string },
  ): Promise<OAuthRecipientCredentials>;
  /**
   * Creates a recipient (with OAuth client credentials when `oauth` is given) whose credentials
   * are made when its one-time activation link is first downloaded; no profile file is written.
   */
  createRecipientWithActivationLink(
    name: string,
    options?: TokenOptions & { comment?: string; oauth?: OAuthOptions; linkExpiresInSeconds?: number },
  ): Promise<ActivationLink>;
  /** Redeems an activation link's code (the server's GET /activation/<code>). */
  activate(code: string, now: number): Promise<ActivationResult>;
  /**
   * Issues a new token for a recipient. The old token stops working at once, or after
   * `graceSeconds` so that the recipient can switch over.
   */
  rotateRecipient(
    name: string,
    options?: TokenOptions & { graceSeconds?: number },
  ): Promise<RecipientCredentials>;
  /**
   * Issues a new client secret to an OAuth recipient and rewrites its profile. The old secret and
   * the access tokens it got stop working at once, or after `graceSeconds`.
   */
  rotateClientSecret(
    name: string,
    options?: TokenOptions & { graceSeconds?: number },
  ): Promise<OAuthRecipientCredentials>;
  /** Sets or removes a recipient's limits (allowed addresses, rate limit); a running server applies them at once. */
  alterRecipient(name: string, change: RecipientLimitsChange): Promise<RecipientInfo>;
  /** Drops a recipient, its grants and its profile file; its token stops working at once. */
  dropRecipient(name: string, options?: { ifExists?: boolean }): Promise<boolean>;
  grant(share: string, recipient: string): Promise<void>;
  /** Revokes a grant; returns whether there was one. */
  revoke(share: string, recipient: string): Promise<boolean>;
  profilePath(recipient: string): string;

  /** Throws when the catalog cannot be read now (a database that is down). For readiness checks. */
  check(): Promise<void>;
  /** Releases connections (a database catalog); the folder catalog holds none. */
  close(): Promise<void>;
}

export const Catalog = {
  /** Opens (creating when needed) the catalog at `location`: a folder, or a postgres:// URL. */
  async open(location: string, options: CatalogOpenOptions = {}): Promise<Catalog> {
    if (isPostgresLocation(location)) {
      return new StoredCatalog(await PostgresStore.open(location, options.workDir ?? ".arcuate/sharing"));
    }
    return new StoredCatalog(await FolderStore.open(location, options.workDir));
  },

  isDatabase(location: string): boolean {
    return isPostgresLocation(location);
  },
};
