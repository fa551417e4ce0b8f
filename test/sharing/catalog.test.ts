// The provider's catalog in a working folder: shares, tables, recipients and their tokens, grants,
// atomic state under concurrent writers, and the reference server's YAML config.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Catalog, parseYamlConfig } from "../../src/sharing/index.js";

let root: string;
let table: string;
let n = 0;
const fresh = () => Catalog.open(join(root, `catalog-${++n}`));

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "arcuate-catalog-test-"));
  // A folder with a _delta_log is all the catalog checks when a table is added.
  table = join(root, "table");
  mkdirSync(join(table, "_delta_log"), { recursive: true });
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("shares and tables", () => {
  it("creates shares, adds and removes tables, drops shares with their grants", async () => {
    const catalog = await fresh();
    await catalog.createShare("Sales", { comment: "quarterly" });
    await expect(catalog.createShare("sales")).rejects.toThrow(/share 'sales' already exists/);
    await catalog.createShare("sales", { ifNotExists: true });
    const added = await catalog.addTable("sales", "x", "t", table);
    expect(added).toMatchObject({
      share: "Sales",
      schema: "x",
      name: "t",
      location: table,
      historyShared: true,
    });
    await expect(catalog.addTable("sales", "x", "T", table)).rejects.toThrow(/already exists/);
    await catalog.addTable("sales", "x", "t", table, { replace: true, historyShared: false });
    await catalog.addTable("sales", "y", "u", table);
    const [share] = await catalog.listShares();
    expect(share).toMatchObject({ name: "Sales", comment: "quarterly" });
    expect(share!.tables.map((t) => `${t.schema}.${t.name}:${t.historyShared}`)).toEqual([
      "x.t:false",
      "y.u:true",
    ]);
    await catalog.removeTable("sales", "y", "u");
    expect((await catalog.state()).shares[0]!.schemas.map((s) => s.name)).toEqual(["x"]);
    await expect(catalog.removeTable("sales", "y", "u")).rejects.toThrow(/does not exist/);
    await catalog.createRecipient("r1");
    await catalog.grant("sales", "r1");
    expect(await catalog.dropShare("SALES")).toBe(true);
    expect(await catalog.listGrants()).toEqual([]);
    expect(await catalog.dropShare("sales", { ifExists: true })).toBe(false);
    await expect(catalog.dropShare("sales")).rejects.toThrow(/does not exist/);
  });

  it("refuses names that break the protocol's rules and locations without a Delta log", async () => {
    const catalog = await fresh();
    await expect(catalog.createShare("a b")).rejects.toThrow(/space/);
    await expect(catalog.createShare("..")).rejects.toThrow(/not allowed/);
    await expect(catalog.createShare("")).rejects.toThrow(/empty/);
    await catalog.createShare("s");
    await expect(catalog.addTable("s", "a.b", "t", table)).rejects.toThrow(/schema name 'a.b' has a '.'/);
    await expect(catalog.addTable("s", "x", "t/u", table)).rejects.toThrow(/'\/'/);
    await expect(catalog.addTable("s", "x", "t", root)).rejects.toThrow(/no Delta table/);
    await expect(catalog.addTable("s", "x", "t", "gs://bucket/t")).rejects.toThrow(
      /not on the local file system/,
    );
    await expect(catalog.addTable("nope", "x", "t", table)).rejects.toThrow(/share 'nope' does not exist/);
  });
});

describe("recipients and tokens", () => {
  it("shows a token once, stores only its hash, and writes a profile file", async () => {
    const catalog = await fresh();
    const created = await catalog.createRecipient("alice", {
      comment: "partner",
      endpoint: "https://sharing.example.com/delta-sharing",
    });
    expect(created.token).toMatch(/^arc_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const state = readFileSync(catalog.statePath, "utf8");
    expect(state).not.toContain(created.token);
    expect(state).not.toContain(created.token.slice(-43));
    const profile = JSON.parse(readFileSync(created.profilePath, "utf8"));
    expect(profile).toEqual({
      shareCredentialsVersion: 1,
      endpoint: "https://sharing.example.com/delta-sharing",
      bearerToken: created.token,
    });
    expect(statSync(created.profilePath).mode & 0o777).toBe(0o600);
    expect(statSync(catalog.statePath).mode & 0o777).toBe(0o600);
    expect((await catalog.listRecipients())[0]).toMatchObject({
      name: "alice",
      comment: "partner",
      shares: [],
    });
    await expect(catalog.createRecipient("alice")).rejects.toThrow(/already exists/);
    await expect(catalog.createRecipient("../evil")).rejects.toThrow(/recipient name/);
    // Reopening the folder keeps the pepper: the token still works.
    const again = await Catalog.open(catalog.dir);
    expect((await again.view()).authenticate(created.token, Date.now())).toMatchObject({
      ok: true,
      principal: { name: "alice" },
    });
  });

  it("expires, rotates (with and without grace) and drops tokens", async () => {
    const catalog = await fresh();
    const now = Date.now();
    const expiring = await catalog.createRecipient("bob", { expiresAt: new Date(now + 60_000) });
    expect(expiring.profile.expirationTime).toBe(new Date(now + 60_000).toISOString());
    let view = await catalog.view();
    expect(view.authenticate(expiring.token, now)).toMatchObject({ ok: true });
    expect(view.authenticate(expiring.token, now + 61_000)).toEqual({ ok: false, reason: "expired" });
    expect(view.authenticate(undefined, now)).toEqual({ ok: false, reason: "missing" });
    expect(view.authenticate("arc_0123456789abcdef_nope", now)).toEqual({ ok: false, reason: "invalid" });

    const rotated = await catalog.rotateRecipient("bob");
    view = await catalog.view();
    expect(view.authenticate(expiring.token, now)).toEqual({ ok: false, reason: "invalid" });
    expect(view.authenticate(rotated.token, now)).toMatchObject({ ok: true });
    expect(JSON.parse(readFileSync(rotated.profilePath, "utf8")).bearerToken).toBe(rotated.token);

    const graced = await catalog.rotateRecipient("bob", { graceSeconds: 30 });
    view = await catalog.view();
    expect(view.authenticate(rotated.token, Date.now())).toMatchObject({ ok: true });
    expect(view.authenticate(rotated.token, Date.now() + 31_000)).toEqual({ ok: false, reason: "expired" });
    expect(view.authenticate(graced.token, Date.now() + 31_000)).toMatchObject({ ok: true });

    expect(await catalog.dropRecipient("bob")).toBe(true);
    expect((await catalog.view()).authenticate(graced.token, Date.now())).toEqual({
      ok: false,
      reason: "invalid",
    });
    expect(() => statSync(graced.profilePath)).toThrow();
  });

  it("grants and revokes shares per recipient", async () => {
    const catalog = await fresh();
    await catalog.createShare("s1");
    await catalog.createShare("s2");
    const carol = await catalog.createRecipient("carol");
    await catalog.grant("s1", "carol");
    await catalog.grant("s1", "CAROL");
    await expect(catalog.grant("s1", "nobody")).rejects.toThrow(/recipient 'nobody' does not exist/);
    await expect(catalog.grant("nope", "carol")).rejects.toThrow(/share 'nope' does not exist/);
    const view = await catalog.view();
    const principal = { id: carol.recipient.id, name: "carol" };
    expect(view.shares(principal).map((s) => s.name)).toEqual(["s1"]);
    expect(view.share(principal, "S1")?.name).toBe("s1");
    expect(view.share(principal, "s2")).toBeUndefined();
    expect((await catalog.listGrants({ share: "s1" })).map((g) => g.recipient)).toEqual(["carol"]);
    expect(await catalog.revoke("s1", "carol")).toBe(true);
    expect(await catalog.revoke("s1", "carol")).toBe(false);
    expect((await catalog.view()).shares(principal)).toEqual([]);
  });
});

describe("state on disk", () => {
  it("keeps every change when several processes write at once", async () => {
    const first = await fresh();
    const second = await Catalog.open(first.dir);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? first : second).createShare(`share${String(i).padStart(2, "0")}`),
      ),
    );
    expect((await first.listShares()).map((s) => s.name)).toEqual(
      Array.from({ length: 20 }, (_, i) => `share${String(i).padStart(2, "0")}`),
    );
    // No temp files or lock left behind.
    expect(readdirSync(first.dir).sort()).toEqual(["catalog.json", "profiles", "secret.json"]);
  });

  it("picks up changes made by another process", async () => {
    const reader = await fresh();
    const writer = await Catalog.open(reader.dir);
    const alice = await writer.createRecipient("alice");
    await writer.createShare("s");
    await writer.grant("s", "alice");
    const principal = { id: alice.recipient.id, name: "alice" };
    expect((await reader.view()).shares(principal).map((s) => s.name)).toEqual(["s"]);
    await writer.revoke("s", "alice");
    expect((await reader.view()).shares(principal)).toEqual([]);
  });
});

describe("the reference server's YAML config", () => {
  it("reads shares, schemas, tables, token and settings", () => {
    const path = join(root, "conf", "server.yaml");
    const config = parseYamlConfig(
      [
        "version: 1",
        "shares:",
        "- name: share1",
        "  schemas:",
        "  - name: default",
        "    tables:",
        "    - name: t1",
        "      location: ../table",
        "      id: 11111111-2222-3333-4444-555555555555",
        "      historyShared: true",
        "authorization:",
        "  bearerToken: tok",
        "host: 0.0.0.0",
        "port: 8080",
        "endpoint: /delta-sharing",
        "preSignedUrlTimeoutSeconds: 900",
      ].join("\n"),
      path,
    );
    expect(config).toMatchObject({
      bearerToken: "tok",
      host: "0.0.0.0",
      port: 8080,
      endpoint: "/delta-sharing",
      preSignedUrlTimeoutSeconds: 900,
    });
    expect(config.shares[0]!.schemas[0]!.tables[0]).toMatchObject({
      name: "t1",
      id: "11111111-2222-3333-4444-555555555555",
      location: table,
      historyShared: true,
    });
  });

  it.each([
    ["version: 2", /version must be 1/],
    ["version: 1\nshares: 3", /shares must be a list/],
    ["version: 1\nshares:\n- name: a b", /space/],
    [
      "version: 1\nshares:\n- name: s\n  schemas:\n  - name: x\n    tables:\n    - name: t",
      /has no location/,
    ],
    ["version: 1\nauthorization:\n  bearerToken: ''", /bearerToken/],
    ["version: 1\nport: 99999", /port/],
    ["version: 1\nendpoint: delta", /endpoint/],
    [": : :", /not valid YAML|mapping/],
  ])("refuses %j", (text, message) => {
    expect(() => parseYamlConfig(text, "/tmp/x.yaml")).toThrow(message);
  });
});
