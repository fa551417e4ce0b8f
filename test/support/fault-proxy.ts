// A TCP proxy for fault tests: it sits between a client and a loopback server and, per connection,
// passes bytes through or injects a fault into the server's answer: a reset (RST) after some
// bytes, a stall (bytes stop for a while, the connection stays open), or a truncated body (a clean
// close after some bytes). It listens on 127.0.0.1 only, forwards only to a loopback target, and
// is bounded: at most `maxConnections` at once (further ones are refused), and close() ends them.
//
//   const proxy = await startFaultProxy("http://127.0.0.1:5000", (n) => n === 2 ? { reset: 300 } : {});
//   … point the client at proxy.url …
//   proxy.faults()  // how many faults were injected
//   await proxy.close();

import type { AddressInfo } from "node:net";
import { connect, createServer, type Server, type Socket } from "node:net";

/** What to do with one connection's answer; `{}` passes it through. Byte counts are of the answer. */
export interface Fault {
  /** Reset both sides after this many bytes of the answer. */
  reset?: number;
  /** Stop forwarding after this many bytes for `stallMs`, then go on. */
  stall?: number;
  stallMs?: number;
  /** Close cleanly (FIN) after this many bytes of the answer, dropping the rest. */
  truncate?: number;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`, with the target's path kept. */
  url: string;
  port: number;
  /** Connections seen so far. */
  connections(): number;
  /** Faults injected so far. */
  faults(): number;
  close(): Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/**
 * Starts a proxy to `target` (a loopback URL). `plan(n, firstBytes)` picks the fault of the n-th
 * connection (1-based), seeing the first bytes the client sent (its request line), so a test can
 * aim at one kind of request.
 */
export async function startFaultProxy(
  target: string,
  plan: (n: number, request: string) => Fault,
  options: { maxConnections?: number } = {},
): Promise<FaultProxy> {
  const url = new URL(target);
  if (!LOOPBACK.has(url.hostname)) throw new Error(`fault proxy: target ${target} is not on loopback`);
  const targetPort = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  const maxConnections = options.maxConnections ?? 64;
  const open = new Set<Socket>();
  let seen = 0;
  let injected = 0;

  const server: Server = createServer((client) => {
    if (open.size >= maxConnections * 2) {
      client.destroy();
      return;
    }
    const n = ++seen;
    const upstream = connect(targetPort, url.hostname === "localhost" ? "127.0.0.1" : url.hostname);
    open.add(client);
    open.add(upstream);
    const end = () => {
      open.delete(client);
      open.delete(upstream);
    };
    client.on("close", end);
    upstream.on("close", end);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    let fault: Fault | undefined;
    let sent = 0;
    let stalled = false;
    client.once("data", (first: Buffer) => {
      fault = plan(n, first.subarray(0, 300).toString("latin1"));
      if (fault.reset !== undefined || fault.stall !== undefined || fault.truncate !== undefined) injected++;
      upstream.write(first);
      client.pipe(upstream);
    });
    upstream.on("data", (chunk: Buffer) => {
      const f = fault ?? {};
      const limit = Math.min(
        f.reset ?? Infinity,
        f.truncate ?? Infinity,
        stalled ? Infinity : (f.stall ?? Infinity),
      );
      if (sent + chunk.length <= limit) {
        sent += chunk.length;
        client.write(chunk);
        return;
      }
      const head = chunk.subarray(0, limit - sent);
      const rest = chunk.subarray(limit - sent);
      sent = limit;
      client.write(head);
      if (f.reset !== undefined && sent >= f.reset) {
        client.resetAndDestroy();
        upstream.destroy();
      } else if (f.truncate !== undefined && sent >= f.truncate) {
        client.end();
        upstream.destroy();
      } else {
        stalled = true;
        upstream.pause();
        setTimeout(() => {
          if (client.destroyed) return;
          sent += rest.length;
          client.write(rest);
          upstream.resume();
        }, f.stallMs ?? 5000).unref();
      }
    });
    upstream.on("end", () => client.end());
  });
  server.maxConnections = maxConnections;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const path = url.pathname === "/" ? "" : url.pathname.replace(/\/+$/, "");
  return {
    url: `http://127.0.0.1:${port}${path}`,
    port,
    connections: () => seen,
    faults: () => injected,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
