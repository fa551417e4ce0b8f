// The PostgreSQL catalog's schema, created and migrated by arcuate itself. Each migration has a
// version and runs once, in one transaction with the others that are missing, under an advisory
// lock so that servers starting together migrate once. A database whose schema is newer than
// this arcuate knows is refused (an older arcuate could lose what the newer one keeps).
//
// Append new migrations; never edit one that has shipped.
import type pg from "pg";
import { ArcuateError } from "../../errors.js";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: "catalog state and secrets",
    sql: `
      CREATE TABLE arcuate_catalog (
        id smallint PRIMARY KEY CHECK (id = 1),
        revision bigint NOT NULL,
        state jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      INSERT INTO arcuate_catalog (id, revision, state)
        VALUES (1, 0, '{"version": 1, "shares": [], "recipients": [], "grants": []}');
      CREATE TABLE arcuate_secrets (
        id smallint PRIMARY KEY CHECK (id = 1),
        pepper bytea NOT NULL,
        signing_key bytea NOT NULL
      );
    `,
  },
  {
    // Recipients gained limits (allowed addresses, rate limits) kept in the state: the state's
    // version goes to 2 so that an older arcuate, which would serve them without their limits,
    // refuses this database (its schema version is newer) instead.
    version: 2,
    name: "recipient access limits (catalog state version 2)",
    sql: `UPDATE arcuate_catalog SET state = jsonb_set(state, '{version}', '2') WHERE id = 1;`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** An arbitrary constant: the advisory lock that serialises arcuate's migrations. */
const MIGRATION_LOCK = 0x61726375;

/** Brings the database to SCHEMA_VERSION; returns the versions it applied. */
export async function migrate(client: pg.ClientBase, where: string): Promise<number[]> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS arcuate_schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const result = await client.query<{ version: number | null }>(
      "SELECT max(version) AS version FROM arcuate_schema_migrations",
    );
    const current = result.rows[0]?.version ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new ArcuateError(
        "UNSUPPORTED_FEATURE",
        `catalog: the database at ${where} has catalog schema version ${current}, newer than this arcuate knows (${SCHEMA_VERSION}): upgrade arcuate, or point --catalog at another database`,
      );
    }
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      await client.query(migration.sql);
      await client.query("INSERT INTO arcuate_schema_migrations (version, name) VALUES ($1, $2)", [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    await client.query("COMMIT");
    return applied;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}
