// The client's data-file GET (node:http, not fetch) against a scripted node:http server: what
// fetch did for the downloads must still happen (redirects, encoded bodies, error answers as
// Responses), and a body cut short must fail rather than come back short.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getBytes } from "../../src/sharing/client/get-bytes.js";

let server: Server;
let base = "";
let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(500).end();

beforeAll(async () => {
  server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const body = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7) % 251);

describe("getBytes", () => {
  it("reads a body of known length, in chunks, with the headers asked", async () => {
    let range: string | undefined;
    handler = (req, res) => {
      range = req.headers.range;
      res.writeHead(200, { "content-length": body.length });
      // Several writes: the body arrives in more than one chunk.
      for (let at = 0; at < body.length; at += 70_000) res.write(body.subarray(at, at + 70_000));
      res.end();
    };
    const result = await getBytes(`${base}/f`, { range: "bytes=0-9" }, 5000);
    expect(result.ok).toBe(true);
    expect(result.ok && Buffer.compare(result.bytes, body)).toBe(0);
    expect(range).toBe("bytes=0-9");
  });

  it("reads a chunked body without a length", async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      res.write(body.subarray(0, 1000));
      res.end(body.subarray(1000));
    };
    const result = await getBytes(`${base}/f`, {}, 5000);
    expect(result.ok && Buffer.compare(result.bytes, body)).toBe(0);
  });

  it("follows redirects, and decodes a gzip-encoded body", async () => {
    handler = (req, res) => {
      if (req.url === "/a") return res.writeHead(302, { location: "/b" }).end();
      if (req.url === "/b") return res.writeHead(307, { location: `${base}/c` }).end();
      const zipped = gzipSync(body);
      res.writeHead(200, { "content-encoding": "gzip", "content-length": zipped.length }).end(zipped);
    };
    const result = await getBytes(`${base}/a`, {}, 5000);
    expect(result.ok && Buffer.compare(result.bytes, body)).toBe(0);
  });

  it("stops after 5 redirects", async () => {
    handler = (_req, res) => res.writeHead(302, { location: "/again" }).end();
    await expect(getBytes(`${base}/loop`, {}, 5000)).rejects.toThrow("more than 5 redirects");
  });

  it("answers an error status as a Response with its headers and body", async () => {
    handler = (_req, res) =>
      res
        .writeHead(429, { "content-type": "application/json", "retry-after": "3" })
        .end(JSON.stringify({ errorCode: "TOO_MANY_REQUESTS", message: "slow down" }));
    const result = await getBytes(`${base}/f`, {}, 5000);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.response.status).toBe(429);
    expect(result.response.headers.get("retry-after")).toBe("3");
    expect(await result.response.json()).toEqual({ errorCode: "TOO_MANY_REQUESTS", message: "slow down" });
  });

  it("fails when the body ends before its Content-Length", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-length": body.length });
      res.write(body.subarray(0, 1000), () => res.destroy());
    };
    await expect(getBytes(`${base}/f`, {}, 5000)).rejects.toThrow();
  });

  it("fails after the timeout when the body stalls", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-length": body.length });
      res.write(body.subarray(0, 1000));
    };
    await expect(getBytes(`${base}/f`, {}, 200)).rejects.toThrow("timed out after 200 ms");
  });

  it("refuses schemes other than http and https", async () => {
    await expect(getBytes("ftp://example.com/f", {}, 5000)).rejects.toThrow("unsupported URL scheme ftp:");
  });
});
