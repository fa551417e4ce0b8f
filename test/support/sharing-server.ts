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
