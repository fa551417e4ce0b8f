// Two `arcuate serve` processes behind nginx on one PostgreSQL catalog, as a platform team runs
// them: recipients read through nginx whichever server answers (page tokens and signed URLs from
// one accepted by the other), changes made anywhere reach both servers within a second, changes
// from several processes at once are all kept, and the deployment survives losing a server or
// the database for a while.
//
// Golden tables: a representative subset (plain, checkpointed, multi-part checkpoint, nested
// types, all primitive types), the same set the single-server Python test reads.
import { join } from "node:path";
import type * as arrow from "apache-arrow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeltaTable } from "../../src/delta/index.js";
import { SharingClient } from "../../src/sharing/client/index.js";
import type { RecipientCredentials } from "../../src/sharing/index.js";
import { GOLDEN_TABLES } from "../support/paths.js";
import { runPythonJson } from "../support/python.js";
import { arcuate, type Cluster, startCluster } from "./cluster.js";

const GOLDEN = [
  "snapshot-data3",
  "multi-part-checkpoint",
  "data-reader-primitives",
  "data-reader-nested-struct",
  "basic-with-inserts-deletes-checkpoint",
];

let cluster: Cluster;
let reader: RecipientCredentials;
const expected = new Map<string, string[]>();

beforeAll(async () => {
  cluster = await startCluster({ servers: 2 });
  const { catalog } = cluster;
  await catalog.createShare("golden");
  for (const name of GOLDEN) {
    const location = join(GOLDEN_TABLES, name);
    await catalog.addTable("golden", "g", name, location);
    expected.set(name, rowsOf(await (await (await DeltaTable.open(location)).snapshot()).readArrow()));
  }
  reader = await catalog.createRecipient("reader");
  await catalog.grant("golden", "reader");
}, 180_000);

afterAll(async () => {
  await cluster?.close();
});

/** Rows as sorted JSON strings, to compare tables whatever the file order. */
function rowsOf(table: arrow.Table): string[] {
  return table
    .toArray()
    .map((row) => JSON.stringify(row.toJSON(), (_k, v) => (typeof v === "bigint" ? v.toString() : v)))
    .sort();
}

function get(url: string, token: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });
}

/** Polls until `ok()` holds; fails when it does not within `ms`. Returns the time it took. */
async function within(ms: number, ok: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await ok()) return Date.now() - started;
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("two servers behind nginx on one PostgreSQL catalog", () => {
  it("serves the Python connector and arcuate's client in both formats, through either server", async () => {
    const result = await runPythonJson<{ failures: string[]; done: number }>(
      `
import json, sys, math, delta_sharing
from deltalake import DeltaTable
spec = json.loads(sys.argv[1])
failures, done = [], 0
def rows(df):
    df = df[sorted(df.columns)]
    cell = lambda v: "None" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v.tolist() if hasattr(v, "tolist") else v)
    return sorted(tuple(cell(v) for v in r) for r in df.itertuples(index=False))
for t in spec["tables"]:
    want = rows(DeltaTable(t["path"]).to_pandas())
    for fmt in (False, True):
        done += 1
        try:
            got = rows(delta_sharing.load_as_pandas(f"{spec['profile']}#golden.g.{t['name']}", use_delta_format=fmt))
            if got != want:
                failures.append(f"{t['name']} delta={fmt}: {len(got)} rows, expected {len(want)}")
        except Exception as e:
            failures.append(f"{t['name']} delta={fmt}: {type(e).__name__}: {str(e)[:300]}")
print(json.dumps({"failures": failures, "done": done}))
`,
      {
        args: [
          JSON.stringify({
            profile: reader.profilePath,
            tables: GOLDEN.map((name) => ({ name, path: join(GOLDEN_TABLES, name) })),
          }),
        ],
      },
    );
    expect(result).toEqual({ failures: [], done: GOLDEN.length * 2 });

    for (const format of ["parquet", "delta"] as const) {
      const client = new SharingClient(reader.profile, { responseFormats: [format] });
      for (const name of GOLDEN) {
        const table = await client.queryTable({ share: "golden", schema: "g", name });
        expect(rowsOf(table), `${name} as ${format}`).toEqual(expected.get(name));
      }
    }
  });

  it("pages through a query with pages served by alternating servers", async () => {
    const table = `${cluster.endpoint}/shares/golden/schemas/g/tables/multi-part-checkpoint/query`;
    const upstreams: string[] = [];
    const files = new Set<string>();
    let pageToken: string | undefined;
    do {
      const reply = await get(table, reader.token, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ maxFiles: 1, ...(pageToken ? { pageToken } : {}) }),
      });
      expect(reply.status).toBe(200);
      upstreams.push(reply.headers.get("x-upstream") ?? "");
      pageToken = undefined;
      for (const line of (await reply.text()).trim().split("\n")) {
        const action = JSON.parse(line) as {
          file?: { id: string };
          endStreamAction?: { nextPageToken?: string };
        };
        if (action.file) files.add(action.file.id);
        if (action.endStreamAction?.nextPageToken) pageToken = action.endStreamAction.nextPageToken;
      }
    } while (pageToken);
    const servers = cluster.servers.map((s) => `127.0.0.1:${s.port}`);
    expect(new Set(upstreams)).toEqual(new Set(servers));
    for (let i = 1; i < upstreams.length; i++) expect(upstreams[i]).not.toBe(upstreams[i - 1]);
    const snapshot = await (await DeltaTable.open(join(GOLDEN_TABLES, "multi-part-checkpoint"))).snapshot();
    expect(files.size).toBe(snapshot.files.length);
  });

  it("refuses a revoked recipient at both servers within a second", async () => {
    const { catalog, servers } = cluster;
    const bob = await catalog.createRecipient("bob");
    await catalog.grant("golden", "bob");
    const listsGolden = async (server: number) => {
      const reply = await get(`${servers[server]!.direct}/shares/golden`, bob.token);
      return reply.status === 200;
    };
    await within(1000, async () => (await listsGolden(0)) && (await listsGolden(1)));
    // An administrator's change goes to the database, whichever server or command makes it.
    await catalog.revoke("golden", "bob");
    const took = await within(1000, async () => !(await listsGolden(0)) && !(await listsGolden(1)));
    expect(took).toBeLessThan(1000);
    // A rotated token: the old one stops working at both, the new one works at both.
    const rotated = await catalog.rotateRecipient("reader");
    const status = async (server: number, token: string) =>
      (await get(`${servers[server]!.direct}/shares`, token)).status;
    await within(
      1000,
      async () => (await status(0, reader.token)) === 401 && (await status(1, reader.token)) === 401,
    );
    expect([await status(0, rotated.token), await status(1, rotated.token)]).toEqual([200, 200]);
    reader = rotated;
  });

  it("keeps every change of 16 GRANT/REVOKE/CREATE RECIPIENT run by 4 arcuate run at once; their recipients work at both servers", async () => {
    const { catalog } = cluster;
    await catalog.createShare("other");
    for (let i = 0; i < 4; i++) {
      await catalog.createRecipient(`q${i}`);
      await catalog.grant("golden", `q${i}`);
    }
    const statements = (i: number) =>
      [
        `CREATE RECIPIENT p${i}`,
        `GRANT SELECT ON SHARE golden TO RECIPIENT p${i}`,
        `REVOKE SELECT ON SHARE golden FROM RECIPIENT q${i}`,
        `GRANT SELECT ON SHARE other TO RECIPIENT q${i}`,
      ].join("; ");
    const outputs = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        arcuate(["run", statements(i), "--catalog", cluster.location, "--workdir", cluster.workDir]),
      ),
    );
    expect(outputs[0]).toContain("created recipient p0");
    const grants = (await catalog.listGrants()).map((g) => `${g.share}:${g.recipient}`).sort();
    expect(grants).toEqual(
      ["golden:reader", ...[0, 1, 2, 3].flatMap((i) => [`golden:p${i}`, `other:q${i}`])].sort(),
    );
    const recipients = (await catalog.listRecipients()).map((r) => r.name).sort();
    expect(recipients).toEqual(["bob", "p0", "p1", "p2", "p3", "q0", "q1", "q2", "q3", "reader"]);
    // A recipient created by arcuate run works at both servers (within the second changes take).
    const client = await SharingClient.fromProfile(join(cluster.workDir, "profiles", "p0.share"));
    expect(client.profile.endpoint).toBe(cluster.endpoint);
    await within(1000, async () => {
      const answers = await Promise.all(
        cluster.servers.map((s) => get(`${s.direct}/shares/golden`, client.profile.bearerToken!)),
      );
      return answers.every((a) => a.status === 200);
    });
    expect((await client.listAllTables("golden")).map((t) => t.name).sort()).toEqual([...GOLDEN].sort());
  });

  it("answers 503 while PostgreSQL is down, then serves again by itself with nothing lost", async () => {
    const before = JSON.stringify(await cluster.catalog.state());
    const statuses: number[] = [];
    let running = true;
    const load = (async () => {
      while (running) {
        const reply = await get(`${cluster.endpoint}/shares/golden/all-tables`, reader.token).catch(
          () => undefined,
        );
        statuses.push(reply?.status ?? 0);
        if (reply && reply.status === 503) {
          expect(await reply.json()).toMatchObject({ errorCode: "TEMPORARILY_UNAVAILABLE" });
        } else await reply?.arrayBuffer();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await cluster.pg.stop();
    await within(5000, async () => {
      const ready = await Promise.all(cluster.servers.map((s) => fetch(`http://127.0.0.1:${s.port}/readyz`)));
      return ready.every((r) => r.status === 503);
    });
    await within(3000, async () => statuses.at(-1) === 503);
    await cluster.pg.start();
    await within(15_000, async () => {
      const ready = await Promise.all(cluster.servers.map((s) => fetch(`http://127.0.0.1:${s.port}/readyz`)));
      return ready.every((r) => r.status === 200);
    });
    await within(5000, async () => statuses.at(-1) === 200);
    running = false;
    await load;
    // Every answer was a success or a protocol error saying to come back: nothing hung or broke.
    expect(new Set(statuses)).toEqual(new Set([200, 503]));
    expect(JSON.stringify(await cluster.catalog.state())).toBe(before);
  });

  it("completes 64 clients' loads through nginx while one server is killed", async () => {
    const names = ["snapshot-data3", "data-reader-primitives"];
    const loads = Array.from({ length: 64 }, async (_, i) => {
      const client = new SharingClient(reader.profile, {
        responseFormats: [i % 2 === 0 ? "parquet" : "delta"],
        retry: { retries: 6, baseDelayMs: 100 },
      });
      for (let round = 0; round < 3; round++) {
        const name = names[(i + round) % names.length]!;
        const table = await client.queryTable({ share: "golden", schema: "g", name });
        expect(rowsOf(table)).toEqual(expected.get(name));
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await cluster.servers[1]!.kill("SIGKILL");
    await Promise.all(loads);
    expect((await fetch(`${cluster.endpoint.replace("/delta-sharing", "")}/healthz`)).status).toBe(200);
  });
});
