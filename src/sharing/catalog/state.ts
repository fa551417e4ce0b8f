// The provider's catalog state as it is kept on disk (`catalog.json` in the working folder), and
// the read-only view of it that the server consults on every request. Names are kept as the
// provider typed them and compared by `nameKey` (the protocol makes them case-insensitive).
import { nameKey, type OAuthProfile, type Profile } from "../protocol.js";
import type { AddressRanges, RateLimit } from "./recipient-limits.js";

/** The endpoint written into profiles when the catalog has none. */
export const DEFAULT_ENDPOINT = "http://127.0.0.1:8080/delta-sharing";

export interface TableEntry {
  name: string;
  /** Stable id, reported to recipients as the table id. */
  id: string;
  /** Absolute path (or `file:` URL) of the Delta table's root folder. */
  location: string;
  /** Whether recipients may time travel and read the change data feed (the reference server's flag). */
  historyShared: boolean;
  addedAt: string;
}

export interface SchemaEntry {
  name: string;
  tables: TableEntry[];
}

export interface ShareEntry {
  name: string;
  id: string;
  /** Served as the share's `displayName`, `comment` and `properties` (PROTOCOL.md #list-shares). */
  displayName?: string;
  comment?: string;
  properties?: Record<string, string>;
  createdAt: string;
  schemas: SchemaEntry[];
}

export interface RecipientEntry {
  name: string;
  id: string;
  comment?: string;
  createdAt: string;
  /** Keyed hash of the bearer token (HMAC-SHA256 with the catalog's pepper); the token is never stored. */
  tokenHash: string;
  /** ISO 8601; absent means the token never expires. */
  expiresAt?: string;
  /** After a rotation with a grace period, the previous token keeps working until `previousExpiresAt`. */
  previousTokenHash?: string;
  previousExpiresAt?: string;
  /** OAuth client credentials (oauth.ts): the client secret's keyed hash; then no bearer token works. */
  clientSecretHash?: string;
  /** Lifetime of the access tokens the token endpoint issues to this recipient. */
  accessTokenSeconds?: number;
  /** After a secret rotation with a grace period, the previous secret (and its access tokens) works until `previousExpiresAt`. */
  previousClientSecretHash?: string;
  /** CIDR ranges the recipient may connect from (recipient-limits.ts); absent: anywhere. */
  allowedAddresses?: string[];
  /** Requests allowed per period; absent: the server's default, if it has one. */
  rateLimit?: RateLimit;
  /** A one-time activation link (activation.ts): the code's keyed hash, until when, the profile's endpoint. */
  activation?: { codeHash: string; expiresAt: string; endpoint: string; usedAt?: string };
}

export interface GrantEntry {
  share: string;
  recipient: string;
  grantedAt: string;
}

export interface CatalogState {
  /**
   * 2 since recipients have limits (allowed addresses, rate limits): an arcuate that knows only
   * version 1 refuses the catalog instead of serving it without the limits. Version 1 is read
   * as version 2 (it has no limits) and written back as 2.
   */
  version: 2;
  /** The endpoint written into new profile files, e.g. `https://sharing.example.com/delta-sharing`. */
  endpoint?: string;
  shares: ShareEntry[];
  recipients: RecipientEntry[];
  grants: GrantEntry[];
}

export function emptyState(): CatalogState {
  return { version: 2, shares: [], recipients: [], grants: [] };
}

/** Who is asking: a recipient of the catalog, or everyone holding the YAML config's single token. */
export interface Principal {
  id: string;
  name: string;
  /** What the server enforces for this recipient besides its grants (server/access-limits.ts). */
  limits?: PrincipalLimits;
}

export interface PrincipalLimits {
  allowedAddresses?: AddressRanges;
  rateLimit?: RateLimit;
}

export interface ResolvedTable {
  share: ShareEntry;
  schema: SchemaEntry;
  table: TableEntry;
}

export type Authentication =
  | { ok: true; principal: Principal }
  | { ok: false; reason: "missing" | "invalid" | "expired" };

/**
 * What the server needs from a catalog at one moment: authenticate a token, and resolve the shares,
 * schemas and tables a principal may see. A share that exists but is not granted is
 * indistinguishable from one that does not exist.
 */
export interface CatalogView {
  authenticate(token: string | undefined, now: number): Authentication;
  /** Shares granted to the principal, sorted by name key. */
  shares(principal: Principal): ShareEntry[];
  share(principal: Principal, name: string): ShareEntry | undefined;
  /** Whether the principal still holds a grant on the share (checked again when a file is fetched). */
  canRead(principalId: string, shareName: string): boolean;
  /** OAuth client credentials → a short-lived access token; undefined when the client or secret is wrong. */
  issueAccessToken?(
    clientId: string,
    clientSecret: string,
    now: number,
  ): { principal: Principal; accessToken: string; expiresIn: number } | undefined;
  /** The principal of an id (a signed file URL names only the id), for the audit log. */
  principal?(id: string): Principal | undefined;
}

/** A source of catalog views: the working-folder catalog, or a reference-server YAML config. */
export interface SharingCatalog {
  /** The current view. Cheap to call on every request; picks up changes made while serving. */
  view(): Promise<CatalogView>;
  /** A secret key for HMAC-signing file URLs and page tokens. */
  signingKey(): Promise<Buffer>;
  /** Throws when the catalog cannot be read now (a database that is down); for /readyz. */
  check?(): Promise<void>;
  /** Redeems a one-time activation link's code: the recipient's fresh profile, once (activation.ts). */
  activate?(code: string, now: number): Promise<ActivationResult>;
  /** Settings a config file may carry (YAML: host, port, endpoint, preSignedUrlTimeoutSeconds). */
  readonly settings?: ServerSettings;
}

export type ActivationResult =
  | { ok: true; recipient: Principal; profile: Profile | OAuthProfile }
  | { ok: false; reason: "unknown" | "used" | "expired"; at?: string };

export interface ServerSettings {
  host?: string;
  port?: number;
  endpoint?: string;
  preSignedUrlTimeoutSeconds?: number;
}

export function byNameKey<T extends { name: string }>(items: T[], name: string): T | undefined {
  const key = nameKey(name);
  return items.find((item) => nameKey(item.name) === key);
}

export function sortedByName<T extends { name: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => compareKeys(nameKey(a.name), nameKey(b.name)));
}

export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
