// A TCP proxy that counts the bytes a server sends and notes the HTTP requests it is asked, so a
// test can tell which server carried a recipient's data. Bytes pass through unchanged (the Host
// header too, which pre-signed URLs sign).
import { createConnection, createServer, type Server, type Socket } from "node:net";

export interface CountingProxy {
  /** http://127.0.0.1:<port> */
  url: string;
  /** Bytes the target sent back. */
  bytesOut: number;
  /** Request lines seen ("GET /path?query"), in order. */
  requests: string[];
  reset(): void;
  close(): Promise<void>;
}

export async function startCountingProxy(targetPort: number): Promise<CountingProxy> {
  const sockets = new Set<Socket>();
  const proxy: CountingProxy = {
    url: "",
    bytesOut: 0,
    requests: [],
    reset() {
      proxy.bytesOut = 0;
      proxy.requests = [];
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: "127.0.0.1", port: targetPort });
    sockets.add(client);
    sockets.add(upstream);
    let pending = "";
    client.on("data", (chunk: Buffer) => {
      // Request lines only; bodies that happen to look like one are rare enough for a test.
      pending = (pending + chunk.toString("latin1")).slice(-8192);
      for (const m of pending.matchAll(/(?:^|\r\n)(GET|HEAD|PUT|POST|DELETE) (\S+) HTTP\/1\.1\r\n/g))
        proxy.requests.push(`${m[1]} ${m[2]}`);
      const last = pending.lastIndexOf(" HTTP/1.1\r\n");
      if (last >= 0) pending = pending.slice(last + 11);
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      proxy.bytesOut += chunk.length;
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", end);
    upstream.on("close", end);
    client.on("error", end);
    upstream.on("error", end);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  proxy.url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  return proxy;
}
