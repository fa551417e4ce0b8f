// The catalog in PostgreSQL: the same rules as the folder, a schema arcuate creates and migrates
// itself, changes from several processes never lost, a server's view following changes made
// elsewhere within a second, and clear errors for databases it cannot use.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSession } from "../../src/lang/index.js";
import { type PostgresServer, startPostgres } from "../../src/peers/postgres.js";
import {
  LISTENER_APPLICATION_NAME,
  READ_TIMEOUT_MS,
  STALE_AFTER_MS,
} from "../../src/sharing/catalog/postgres-store.js";
import { Catalog } from "../../src/sharing/index.js";

let pg: PostgresServer;
let root: string;
let table: string;
let n = 0;
const opened: Catalog[] = [];

/** A fresh database, and the URL of it. */
async function freshDatabase(): Promise<string> {
  const name = `catalog_${++n}`;
  await pg.createDatabase(name);
  return pg.url(name);
}

async function open(url: string): Promise<Catalog> {
  const catalog = await Catalog.open(url, { workDir: join(root, "work") });
  opened.push(catalog);
  return catalog;
}

/** The pid of the backend of the catalog listener's connection (not `other`), or 0. */
async function listenerPid(database: string, other = 0): Promise<number> {
  const pids = pg
    .psql(
      `SELECT pid FROM pg_stat_activity WHERE datname = '${database}' AND application_name = '${LISTENER_APPLICATION_NAME}' AND pid <> ${other}`,
      "postgres",
    )
    .split("\n")
    .filter(Boolean);
  return pids.length === 1 ? Number(pids[0]) : 0;
}

/** Polls until `ok()` holds; fails when it does not within `ms`. Returns the time it took. */
async function until(ms: number, ok: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await ok()) return Date.now() - started;
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

beforeAll(async () => {
  pg = await startPostgres({ auth: "password", password: "catalog-secret" });
  root = mkdtempSync(join(tmpdir(), "arcuate-pg-catalog-"));
  table = join(root, "table");
  mkdirSync(join(table, "_delta_log"), { recursive: true });
});

afterAll(async () => {
  for (const catalog of opened) await catalog.close();
  await pg?.destroy();
  rmSync(root, { recursive: true, force: true });
});

describe("the PostgreSQL catalog", () => {
  it("keeps shares, tables, recipients and grants, with token hashes only", async () => {
    const url = await freshDatabase();
    const catalog = await open(url);
    expect(catalog.statePath).not.toContain("catalog-secret");
    await catalog.createShare("Sales", { comment: "quarterly" });
    await expect(catalog.createShare("sales")).rejects.toThrow(/share 'sales' already exists/);
    await catalog.addTable("sales", "x", "t", table);
    await expect(catalog.addTable("sales", "x", "t", root)).rejects.toThrow(/no Delta table/);
    const alice = await catalog.createRecipient("alice");
    expect(alice.profilePath).toBe(join(root, "work", "profiles", "alice.share"));
    await catalog.grant("sales", "alice");

    // Another process opening the same database sees all of it, with the same signing key.
    const other = await open(url);
    expect((await other.listShares()).map((s) => [s.name, s.comment, s.recipients])).toEqual([
      ["Sales", "quarterly", ["alice"]],
    ]);
    expect((await other.signingKey()).equals(await catalog.signingKey())).toBe(true);
    const view = await other.view();
    const auth = view.authenticate(alice.token, Date.now());
    expect(auth).toMatchObject({ ok: true, principal: { name: "alice" } });
    expect(view.shares({ id: alice.recipient.id, name: "alice" }).map((s) => s.name)).toEqual(["Sales"]);

    // The database holds a hash of the token, never the token.
    const stored = pg.psql("SELECT state::text FROM arcuate_catalog", `catalog_${n}`, "catalog-secret");
    expect(stored).not.toContain(alice.token);
    expect(stored).toContain(alice.recipient.id);
    expect(
      pg.psql(
        "SELECT version FROM arcuate_schema_migrations ORDER BY version",
        `catalog_${n}`,
        "catalog-secret",
      ),
    ).toBe("1\n2");
  });

  it("keeps every change when several catalogs change it at once", async () => {
    const url = await freshDatabase();
    const catalogs = await Promise.all([open(url), open(url), open(url)]);
    const names = Array.from({ length: 24 }, (_, i) => `share${String(i).padStart(2, "0")}`);
    await Promise.all(names.map((name, i) => catalogs[i % 3]!.createShare(name)));
    expect((await catalogs[0]!.listShares()).map((s) => s.name)).toEqual(names);
  });

  it("shows a server's view a revoke made elsewhere within a second", async () => {
    const url = await freshDatabase();
    const server = await open(url);
    const admin = await open(url);
    await admin.createShare("s");
    const bob = await admin.createRecipient("bob");
    await admin.grant("s", "bob");
    const principal = { id: bob.recipient.id, name: "bob" };
    expect((await server.view()).canRead(principal.id, "s")).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300)); // the change feed is listening
    await admin.revoke("s", "bob");
    const started = Date.now();
    while ((await server.view()).canRead(principal.id, "s")) {
      expect(Date.now() - started).toBeLessThan(1000);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  });

  it("notices a listener connection gone silent, and honours a revoke made meanwhile within a second", async () => {
    const url = await freshDatabase();
    const database = `catalog_${n}`;
    const server = await open(url);
    const admin = await open(url);
    await admin.createShare("s");
    const bob = await admin.createRecipient("bob");
    await admin.grant("s", "bob");
    expect((await server.view()).canRead(bob.recipient.id, "s")).toBe(true);
    let listener = 0;
    await until(5000, async () => {
      listener = await listenerPid(database);
      return listener > 0;
    });
    expect(listener).toBeGreaterThan(0); // never 0: kill(0, …) would stop this test's own process group
    await new Promise((resolve) => setTimeout(resolve, 300)); // it has answered a heartbeat
    // The listener's backend freezes: its connection stays open and says nothing, no reset, no
    // error, and notifications queue up for it unread.
    process.kill(listener, "SIGSTOP");
    try {
      await admin.revoke("s", "bob");
      const took = await until(5000, async () => !(await server.view()).canRead(bob.recipient.id, "s"));
      expect(took).toBeLessThan(1000);
      // The silent connection is replaced by a new listener, which sees the next change at once.
      const replaced = await until(5000, async () => (await listenerPid(database, listener)) !== 0);
      expect(replaced).toBeLessThan(5000);
      await admin.grant("s", "bob");
      expect(
        await until(1000, async () => (await server.view()).canRead(bob.recipient.id, "s")),
      ).toBeLessThan(1000);
    } finally {
      process.kill(listener, "SIGCONT");
    }
  });

  it("fails a server's reads, rather than hanging, while the database is frozen, and recovers by itself", async () => {
    const url = await freshDatabase();
    const server = await open(url);
    const admin = await open(url);
    await admin.createShare("s");
    const carol = await admin.createRecipient("carol");
    await admin.grant("s", "carol");
    expect((await server.view()).canRead(carol.recipient.id, "s")).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300)); // the listener has answered a heartbeat
    pg.pause();
    const paused = Date.now();
    try {
      // The cache is trusted for at most a second, then a read of the revision times out.
      let failure: Error | undefined;
      while (!failure) {
        failure = await server.view().then(
          () => undefined,
          (error: Error) => error,
        );
      }
      expect(failure.message).toMatch(/cannot reach the PostgreSQL catalog at .*start the database/);
      expect(Date.now() - paused).toBeLessThan(STALE_AFTER_MS + READ_TIMEOUT_MS + 1500);
    } finally {
      pg.resume();
    }
    await until(15_000, () =>
      server.view().then(
        () => true,
        () => false,
      ),
    );
    await admin.revoke("s", "carol");
    expect(
      await until(1000, async () => !(await server.view()).canRead(carol.recipient.id, "s")),
    ).toBeLessThan(1000);
  });

  it("says what to do when the database cannot be used", async () => {
    const url = await freshDatabase();
    const wrongPassword = url.replace("catalog-secret", "wrong");
    await expect(Catalog.open(wrongPassword)).rejects.toThrow(
      /refused user 'arcuate'.*correct the user and password in --catalog/,
    );
    await expect(Catalog.open(wrongPassword)).rejects.not.toThrow(/wrong/);
    const closed = url.replace(`:${pg.port}/`, ":1/");
    await expect(Catalog.open(closed)).rejects.toThrow(
      /cannot reach the PostgreSQL catalog at .*:1\/.*start the database/,
    );
    await expect(Catalog.open(pg.url("nope"))).rejects.toThrow(
      /database "nope" does not exist.*createdb nope/,
    );

    // A database migrated by a newer arcuate is refused, and left as it was.
    const catalog = await open(url);
    await catalog.createShare("kept");
    pg.psql("INSERT INTO arcuate_schema_migrations (version, name) VALUES (99, 'future')", `catalog_${n}`);
    await expect(Catalog.open(url)).rejects.toThrow(
      /schema version 99, newer than this arcuate knows \(2\): upgrade arcuate/,
    );
    expect(pg.psql("SELECT state->'shares'->0->>'name' FROM arcuate_catalog", `catalog_${n}`)).toBe("kept");
  });

  it("is the catalog of %arcuate statements (kernel, API) when $ARCUATE_CATALOG names it", async () => {
    const url = await freshDatabase();
    const workDir = join(root, "statements");
    process.env.ARCUATE_CATALOG = url;
    try {
      const session = createSession({ workDir });
      await session.execute(
        "CREATE SHARE from_kernel; CREATE RECIPIENT dana; GRANT SELECT ON SHARE from_kernel TO RECIPIENT dana",
      );
    } finally {
      delete process.env.ARCUATE_CATALOG;
    }
    const catalog = await open(url);
    expect(await catalog.listGrants()).toMatchObject([{ share: "from_kernel", recipient: "dana" }]);
    // The folder was not used as a catalog; only the recipient's profile was written there.
    expect(existsSync(join(workDir, "catalog.json"))).toBe(false);
    expect(existsSync(join(workDir, "profiles", "dana.share"))).toBe(true);
  });
});
