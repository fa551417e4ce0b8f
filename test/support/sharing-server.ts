// arcuate's Delta Sharing server in-process on a free loopback port, for tests in any area.
//
//   const s = await startTestSharingServer();
//   const { profilePath } = await s.shareTables({ share: "s", tables: [{ schema: "x", table: "t", location }] });
//   … read "<profilePath>#s.x.t" with any client …
//   await s.close();
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Catalog,
  type RecipientCredentials,
  type SharingServer,
  startSharingServer,
} from "../../src/sharing/index.js";
import { runPython } from "./python.js";

export interface TestSharingServer {
  /** The endpoint, e.g. http://127.0.0.1:41234/delta-sharing. */
  url: string;
  server: SharingServer;
  catalog: Catalog;
  /** The catalog's working folder (removed by close unless it was passed in). */
  dir: string;
  /**
   * Creates the share (if needed), adds the tables, creates a recipient (default: a fresh name)
   * granted on the share, and returns its credentials, profile file included.
   */
  shareTables(spec: {
    share: string;
    tables: Array<{ schema: string; table: string; location: string }>;
    recipient?: string;
  }): Promise<RecipientCredentials>;
  close(): Promise<void>;
}

let counter = 0;

export async function startTestSharingServer(
  options: { dir?: string; preSignedUrlTimeoutSeconds?: number } = {},
): Promise<TestSharingServer> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "arcuate-sharing-"));
  const catalog = await Catalog.open(dir);
  const server = await startSharingServer({
    catalog,
    host: "127.0.0.1",
    port: 0,
    ...(options.preSignedUrlTimeoutSeconds === undefined
      ? {}
      : { preSignedUrlTimeoutSeconds: options.preSignedUrlTimeoutSeconds }),
    log: () => {},
  });
  await catalog.setEndpoint(server.url);
  return {
    url: server.url,
    server,
    catalog,
    dir,
    async shareTables(spec) {
      await catalog.createShare(spec.share, { ifNotExists: true });
      for (const t of spec.tables)
        await catalog.addTable(spec.share, t.schema, t.table, t.location, { replace: true });
      const credentials = await catalog.createRecipient(
        spec.recipient ?? `recipient-${process.pid}-${++counter}`,
      );
      await catalog.grant(spec.share, credentials.recipient.name);
      return credentials;
    },
    async close() {
      await server.close();
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Writes small Delta tables with delta-rs (Python `deltalake`) under `dir`, for server tests:
 * - `plain`: columns a (long), b (string); change data feed on; v0 3 rows, v1 +2 rows, v2 deletes a=1.
 * - `parts`: columns p (string, partition), n (long); partitions a, b, c with 2 rows each, one commit.
 */
export async function writeDeltaRsTables(dir: string): Promise<{ plain: string; parts: string }> {
  const plain = join(dir, "plain");
  const parts = join(dir, "parts");
  await runPython(
    `
import sys, time, pandas as pd
from deltalake import write_deltalake, DeltaTable
plain, parts = sys.argv[1], sys.argv[2]
write_deltalake(plain, pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}), configuration={"delta.enableChangeDataFeed": "true"})
time.sleep(0.2)  # distinct commit times, so timestamps pick versions unambiguously
write_deltalake(plain, pd.DataFrame({"a": [4, 5], "b": ["u", "v"]}), mode="append")
time.sleep(0.2)
DeltaTable(plain).delete("a = 1")
write_deltalake(parts, pd.DataFrame({"p": ["a", "a", "b", "b", "c", "c"], "n": [1, 2, 3, 4, 5, 6]}), partition_by=["p"])
`,
    { args: [plain, parts] },
  );
  return { plain, parts };
}
