// The test peers of the PostgreSQL catalog: a throw-away PostgreSQL cluster (password auth
// refuses a wrong password; stop/start keeps the data) and nginx balancing two HTTP servers.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { startNginx } from "../../src/peers/nginx.js";
import { startPostgres } from "../../src/peers/postgres.js";

describe("test peers", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("runs PostgreSQL with password auth, and keeps data across a restart", async () => {
    const server = await startPostgres({ auth: "password", password: "s3cret" });
    cleanups.push(() => server.destroy());
    await server.createDatabase("peers");
    server.psql("CREATE TABLE t (v int); INSERT INTO t VALUES (42)", "peers");
    expect(() => server.psql("SELECT 1", "peers", "nope")).toThrow(/password authentication failed/);
    await server.stop();
    expect(() => server.psql("SELECT 1", "peers")).toThrow();
    await server.start();
    expect(server.psql("SELECT v FROM t", "peers")).toBe("42");
  });

  it("balances requests over two servers with nginx", async () => {
    const servers: Server[] = [];
    for (const name of ["a", "b"]) {
      const server = createServer((_req, res) => res.end(name));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      servers.push(server);
      cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    }
    const nginx = await startNginx({
      upstreams: servers.map((s) => `127.0.0.1:${(s.address() as AddressInfo).port}`),
    });
    cleanups.push(() => nginx.stop());
    const bodies: string[] = [];
    for (let i = 0; i < 4; i++) bodies.push(await (await fetch(`${nginx.origin}/x`)).text());
    expect(bodies.sort()).toEqual(["a", "a", "b", "b"]);
  });
});
