// The catalog kept in PostgreSQL (`postgres://` or `postgresql://` locations), for several
// sharing servers and administrators on one catalog. The schema (migrations.ts) holds the same
// state as the folder's catalog.json, as one jsonb row with a revision number, and the secrets
// (token pepper, signing key) in a row of their own:
//
// - A change locks the row (SELECT … FOR UPDATE), applies the catalog's rules to the freshest
//   state, writes it with revision + 1 and notifies `arcuate_catalog`, all in one transaction:
//   two administrators at once are serialised by the row lock, and neither change is lost.
// - A server LISTENs on `arcuate_catalog` on a connection of its own and serves from its cached
//   view, reloading when a notification names a newer revision. The hot path makes no query.
//   The listener's connection answers a heartbeat every quarter second: a connection that died
//   without a word (a paused or unplugged database, a dropped route: no TCP reset) is noticed
//   by its silence. The cache is trusted while the listener answered within STALE_AFTER_MS;
//   after that a request reads the revision itself, and answers 503 when the database does not
//   answer within READ_TIMEOUT_MS. The listener reconnects by itself, so the server recovers
//   without a restart.
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import pg from "pg";
import { ArcuateError } from "../../errors.js";
import { checkState } from "./folder-store.js";
import { migrate } from "./migrations.js";
import { describeLocation, translatePgError } from "./postgres-errors.js";
import type { Secrets } from "./secrets.js";
import type { CatalogState, CatalogView } from "./state.js";
import type { CatalogStore, Loaded } from "./store.js";
import { StateView } from "./view.js";

export const CHANNEL = "arcuate_catalog";
/**
 * How long a cached view is trusted without news: since the last heartbeat the listener answered,
 * or (with no listener) since the revision was last read. Below a second, so that a change is
 * honoured within one second with the re-read of the revision included.
 */
export const STALE_AFTER_MS = 750;
/** A listener silent for this long is dropped and replaced (the cache stopped trusting it earlier). */
const LISTENER_DEAD_MS = 2000;
/** How often the listener's connection is asked to answer. */
export const HEARTBEAT_MS = 250;
/** The heartbeat's text, so that a count of the catalog's queries can leave heartbeats out. */
export const HEARTBEAT_SQL = "SELECT 1 AS arcuate_heartbeat";
/** A read of the catalog (a request's revision check, /readyz) waits no longer than this. */
export const READ_TIMEOUT_MS = 2000;
/** Any other query (a change, a migration) waits no longer than this. */
const QUERY_TIMEOUT_MS = 10_000;
/** What the listener's connection calls itself, in pg_stat_activity. */
export const LISTENER_APPLICATION_NAME = "arcuate-catalog-listener";

export function isPostgresLocation(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

interface Cached extends Loaded {
  revision: number;
}

export class PostgresStore implements CatalogStore {
  /** Queries made to read the state (not to change it); the benchmark reports them per request. */
  lookups = 0;
  private cached?: Cached;
  private refreshing?: Promise<Cached>;
  private verifiedAt = 0;
  private listener?: pg.Client;
  private listening = false;
  /** When the last heartbeat the listener answered was sent: notifications up to then arrived. */
  private heardAt = 0;
  private heartbeat?: NodeJS.Timeout;
  private notified = 0;
  private reconnectTimer?: NodeJS.Timeout;
  private reconnectDelay = 100;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly location: string,
    readonly dir: string,
    readonly secrets: Secrets,
  ) {}

  static async open(location: string, workDir: string): Promise<PostgresStore> {
    const pool = newPool(location);
    try {
      const client = await pool.connect();
      try {
        await migrate(client, describeLocation(location));
        const secrets = await loadSecrets(client);
        return new PostgresStore(pool, location, resolve(workDir), secrets);
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw translatePgError(error, location);
    }
  }

  get statePath(): string {
    return `${describeLocation(this.location)} (table arcuate_catalog)`;
  }

  async load(): Promise<Loaded> {
    return this.refresh();
  }

  async view(): Promise<CatalogView> {
    if (!this.listener && !this.closed) this.listen();
    const cached = this.cached;
    if (cached) {
      const now = Date.now();
      const fresh =
        this.listening && now - this.heardAt < STALE_AFTER_MS
          ? cached.revision >= this.notified
          : now - this.verifiedAt < STALE_AFTER_MS;
      if (fresh) return cached.view;
    }
    return (await this.refresh()).view;
  }

  async update<T>(change: (state: CatalogState) => T): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw translatePgError(error, this.location);
    }
    // A connection whose query timed out or failed mid-transaction is not given back for reuse.
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      const row = await client.query<{ revision: string; state: CatalogState }>(
        "SELECT revision, state FROM arcuate_catalog WHERE id = 1 FOR UPDATE",
      );
      const state = stateOf(row.rows[0], this.statePath);
      const result = change(state);
      const written = await client.query<{ revision: string }>(
        "UPDATE arcuate_catalog SET state = $1, revision = revision + 1, updated_at = now() WHERE id = 1 RETURNING revision",
        [JSON.stringify(state)],
      );
      const revision = Number(written.rows[0]!.revision);
      await client.query("SELECT pg_notify($1, $2)", [CHANNEL, String(revision)]);
      await client.query("COMMIT");
      this.remember(revision, state);
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch((failed: Error) => {
        broken = failed;
      });
      throw translatePgError(error, this.location);
    } finally {
      client.release(broken);
    }
  }

  async check(): Promise<void> {
    try {
      await this.pool.query(readQuery("SELECT 1"));
    } catch (error) {
      throw translatePgError(error, this.location);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.heartbeat);
    const listener = this.listener;
    this.listener = undefined;
    this.listening = false;
    await listener?.end().catch(() => undefined);
    await this.pool.end();
  }

  // -------------------------------------------------------------------------------------------

  /** Reads the revision (and the state when it changed); concurrent callers share one query. */
  private refresh(): Promise<Cached> {
    if (this.refreshing) return this.refreshing;
    const pending = (async () => {
      const known = this.cached?.revision ?? -1;
      // What the answer says is true as of the question, not of the answer.
      const askedAt = Date.now();
      this.lookups++;
      let row: { revision: string; state: CatalogState | null } | undefined;
      try {
        const result = await this.pool.query<{ revision: string; state: CatalogState | null }>(
          readQuery(
            "SELECT revision, CASE WHEN revision = $1 THEN NULL ELSE state END AS state FROM arcuate_catalog WHERE id = 1",
            [known],
          ),
        );
        row = result.rows[0];
      } catch (error) {
        throw translatePgError(error, this.location);
      }
      const revision = Number(row?.revision ?? 0);
      if (this.cached && revision === this.cached.revision) {
        this.verifiedAt = Math.max(this.verifiedAt, askedAt);
        return this.cached;
      }
      return this.remember(revision, stateOf(row, this.statePath), askedAt);
    })();
    this.refreshing = pending;
    const clear = () => {
      if (this.refreshing === pending) this.refreshing = undefined;
    };
    pending.then(clear, clear);
    return pending;
  }

  private remember(revision: number, state: CatalogState, askedAt = Date.now()): Cached {
    this.verifiedAt = Math.max(this.verifiedAt, askedAt);
    if (this.cached && this.cached.revision >= revision) return this.cached;
    this.cached = { revision, state, view: new StateView(state, this.secrets.pepper) };
    return this.cached;
  }

  /** Keeps one connection LISTENing for changes; reconnects after it is lost. */
  private listen(): void {
    const client = new pg.Client({
      connectionString: this.location,
      keepAlive: true,
      connectionTimeoutMillis: 5000,
      application_name: LISTENER_APPLICATION_NAME,
    });
    this.listener = client;
    const lost = () => {
      if (this.listener !== client) return;
      this.listening = false;
      this.listener = undefined;
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
      dropConnection(client);
      if (this.closed) return;
      this.reconnectTimer = setTimeout(() => {
        if (!this.closed && !this.listener) this.listen();
      }, this.reconnectDelay);
      this.reconnectTimer.unref();
      this.reconnectDelay = Math.min(this.reconnectDelay * 2, 1000);
    };
    client.on("error", lost);
    client.on("end", lost);
    client.on("notification", (message) => {
      const revision = Number(message.payload);
      if (Number.isFinite(revision) && revision > this.notified) this.notified = revision;
      // Reload at once, so that the next request finds the new view ready.
      if (this.cached && this.notified > this.cached.revision) this.refresh().catch(() => undefined);
    });
    (async () => {
      await client.connect();
      const listenedAt = Date.now();
      await client.query(`LISTEN ${CHANNEL}`);
      // Changes made before LISTEN took effect were not notified: the revision read after it, on
      // the same connection, counts as notified (a cached view older than it is reloaded).
      const current = await client.query<{ revision: string }>(
        "SELECT revision FROM arcuate_catalog WHERE id = 1",
      );
      if (this.listener !== client) return;
      const revision = Number(current.rows[0]?.revision ?? 0);
      if (revision > this.notified) this.notified = revision;
      this.heardAt = listenedAt;
      this.listening = true;
      this.reconnectDelay = 100;
      this.beat(client, lost);
      if (this.cached && this.notified > this.cached.revision) this.refresh().catch(() => undefined);
    })().catch(lost);
  }

  /**
   * Asks the listener's connection to answer every HEARTBEAT_MS. Its answer says that every
   * notification sent before the question has arrived; no answer for LISTENER_DEAD_MS means the
   * connection is gone (the cache stopped trusting it earlier), and it is dropped and replaced.
   */
  private beat(client: pg.Client, lost: () => void): void {
    let askedAt: number | undefined;
    this.heartbeat = setInterval(() => {
      if (this.listener !== client) return;
      const now = Date.now();
      if (askedAt !== undefined) {
        if (now - askedAt >= LISTENER_DEAD_MS) lost();
        return;
      }
      const asked = now;
      askedAt = asked;
      client.query(HEARTBEAT_SQL).then(() => {
        if (askedAt !== asked) return;
        askedAt = undefined;
        if (this.listener === client) this.heardAt = asked;
      }, lost);
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }
}

/**
 * Closes a connection at once. `end()` says goodbye to the server and waits for its answer,
 * which a silent server never sends; destroying the socket frees it now.
 */
function dropConnection(client: pg.Client): void {
  const socket = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
  if (socket) socket.destroy();
  else client.end().catch(() => undefined);
}

/** node-postgres reads `query_timeout` from a query's config; its typings omit it. */
interface TimedQuery extends pg.QueryConfig {
  query_timeout: number;
}

function readQuery(text: string, values: unknown[] = []): TimedQuery {
  return { text, values, query_timeout: READ_TIMEOUT_MS };
}

function newPool(location: string): pg.Pool {
  const pool = new pg.Pool({
    connectionString: location,
    max: 4,
    // One-shot commands exit by themselves once their queries are done.
    allowExitOnIdle: true,
    idleTimeoutMillis: 10_000,
    connectionTimeoutMillis: 5_000,
    query_timeout: QUERY_TIMEOUT_MS,
    keepAlive: true,
  });
  // An idle connection cut by a database restart: the pool drops it and opens a new one later.
  pool.on("error", () => undefined);
  return pool;
}

function stateOf(row: { state: CatalogState | null } | undefined, path: string): CatalogState {
  if (!row?.state) throw new ArcuateError("CORRUPT_TABLE", `catalog: ${path} has no catalog row`);
  checkState(row.state, path);
  return row.state;
}

async function loadSecrets(client: pg.PoolClient): Promise<Secrets> {
  await client.query(
    "INSERT INTO arcuate_secrets (id, pepper, signing_key) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING",
    [randomBytes(32), randomBytes(32)],
  );
  const result = await client.query<{ pepper: Buffer; signing_key: Buffer }>(
    "SELECT pepper, signing_key FROM arcuate_secrets WHERE id = 1",
  );
  const row = result.rows[0]!;
  return { pepper: row.pepper, signingKey: row.signing_key };
}
