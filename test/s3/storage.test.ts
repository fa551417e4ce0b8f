// S3Storage against a real S3-compatible server (SeaweedFS): the Storage contract, pre-signed
// URLs (equal to the AWS SDK's, refused when expired or tampered with), STS credentials scoped to a
// prefix, and bad input — wrong endpoint, bad credentials, missing bucket, a store without
// conditional writes — each a clear error naming the location.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import * as arrow from "apache-arrow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeltaTable, S3Storage, vendReadCredentials } from "../../src/delta/index.js";
import { ConflictError } from "../../src/errors.js";
import { type SeaweedFs, startSeaweedFs } from "../support/seaweedfs.js";

let weed: SeaweedFs;
const BUCKET = "arcuate-storage";

beforeAll(async () => {
  weed = await startSeaweedFs();
  await weed.createBucket(BUCKET);
  Object.assign(process.env, weed.env);
});

afterAll(async () => {
  await weed?.stop();
});

const text = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

async function streamText(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString("utf8");
}

describe("S3Storage keeps the Storage contract", () => {
  it("lists sorted and recursively, reads ranges, writes atomically, creates only if absent", async () => {
    const storage = new S3Storage(`s3://${BUCKET}/contract/t1`);
    for (const path of ["b/2.txt", "a.txt", "b/1.txt", "_delta_log/00000000000000000000.json", "ab.txt"])
      await storage.write(path, text(`content of ${path}`));
    expect((await storage.list("")).map((f) => f.path)).toEqual([
      "_delta_log/00000000000000000000.json",
      "a.txt",
      "ab.txt",
      "b/1.txt",
      "b/2.txt",
    ]);
    expect((await storage.list("b/")).map((f) => f.path)).toEqual(["b/1.txt", "b/2.txt"]);
    expect((await storage.list("a")).map((f) => f.path)).toEqual(["a.txt", "ab.txt"]);
    expect(await storage.list("missing/")).toEqual([]);
    const [info] = await storage.list("a.txt");
    expect(info).toMatchObject({ size: "content of a.txt".length });
    expect(Math.abs(info!.modificationTime - Date.now())).toBeLessThan(120_000);

    expect(decode(await storage.read("a.txt", { offset: 11, length: 5 }))).toBe("a.txt");
    expect(await streamText(storage.readStream("b/1.txt", { offset: 11 }))).toBe("b/1.txt");
    expect(await streamText(storage.readStream("b/1.txt", { offset: 0, length: 7 }))).toBe("content");
    await expect(storage.read("nope.txt")).rejects.toThrow(
      `delta: file not found: s3://${BUCKET}/contract/t1/nope.txt`,
    );
    await expect(streamText(storage.readStream("nope.txt"))).rejects.toThrow("file not found");
    expect(await storage.stat("nope.txt")).toBeUndefined();
    expect(await storage.stat("a.txt")).toMatchObject({ path: "a.txt", size: 16 });

    await storage.write("a.txt", text("replaced"));
    expect(decode(await storage.read("a.txt"))).toBe("replaced");

    await storage.putIfAbsent("_delta_log/00000000000000000001.json", text("one"));
    const second = storage.putIfAbsent("_delta_log/00000000000000000001.json", text("two"));
    await expect(second).rejects.toBeInstanceOf(ConflictError);
    await expect(second).rejects.toThrow(`already exists in s3://${BUCKET}/contract/t1`);
    expect(decode(await storage.read("_delta_log/00000000000000000001.json"))).toBe("one");

    await storage.delete("a.txt");
    expect(await storage.stat("a.txt")).toBeUndefined();
  });

  it("eight writers creating the same key: exactly one wins, every round", async () => {
    const storage = new S3Storage(`s3://${BUCKET}/contract/race`);
    for (let round = 0; round < 5; round += 1) {
      const path = `_delta_log/${String(round).padStart(20, "0")}.json`;
      const outcomes = await Promise.allSettled(
        Array.from({ length: 8 }, (_, w) =>
          new S3Storage(`s3://${BUCKET}/contract/race`).putIfAbsent(path, text(`w${w}`)),
        ),
      );
      const won = outcomes.filter((o) => o.status === "fulfilled");
      expect(won).toHaveLength(1);
      for (const o of outcomes) if (o.status === "rejected") expect(o.reason).toBeInstanceOf(ConflictError);
      const winner = outcomes.findIndex((o) => o.status === "fulfilled");
      expect(decode(await storage.read(path))).toBe(`w${winner}`);
    }
  });

  it("writes a large file as a streamed multipart upload", async () => {
    const storage = new S3Storage(`s3://${BUCKET}/contract/big`);
    const size = 17 * 1024 * 1024 + 123;
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i += 4096) data[i] = (i / 4096) % 251;
    await storage.write("big.bin", data);
    expect((await storage.stat("big.bin"))?.size).toBe(size);
    const tail = await storage.read("big.bin", { offset: size - 8192, length: 8192 });
    expect(Buffer.from(tail).equals(Buffer.from(data.subarray(size - 8192)))).toBe(true);
    async function* parts() {
      for (let i = 0; i < 3; i += 1) yield new Uint8Array(6 * 1024 * 1024).fill(i + 1);
    }
    await storage.writeStream("streamed.bin", parts());
    expect((await storage.stat("streamed.bin"))?.size).toBe(18 * 1024 * 1024);
    expect([...(await storage.read("streamed.bin", { offset: 13 * 1024 * 1024, length: 2 }))]).toEqual([
      3, 3,
    ]);
  });

  it("serves a Delta table at s3:// and s3a:// locations", async () => {
    const table = await DeltaTable.create(`s3://${BUCKET}/tables/small`, {
      schema: { type: "struct", fields: [{ name: "id", type: "long", nullable: false, metadata: {} }] },
    });
    await table.write(new arrow.Table({ id: arrow.vectorFromArray([1n, 2n, 3n], new arrow.Int64()) }), {
      mode: "append",
    });
    const again = await DeltaTable.open(`s3a://${BUCKET}/tables/small/`);
    expect(await again.latestVersion()).toBe(1);
    expect((await again.readArrow()).numRows).toBe(3);
    await expect(DeltaTable.open(`s3://${BUCKET}/tables/none`)).rejects.toThrow(
      `not a Delta table (no _delta_log commits): s3://${BUCKET}/tables/none`,
    );
  });
});

describe("pre-signed URLs", () => {
  it("equal the AWS SDK presigner's, and SeaweedFS serves them until they expire", async () => {
    const storage = new S3Storage(`s3://${BUCKET}/signed`);
    await storage.write("dir with space/f+1.txt", text("signed bytes"));
    const presigner = await storage.presigner();
    const signedAt = Date.now() - 1000;
    const ours = presigner.url("signed/dir with space/f+1.txt", signedAt, 900, {
      "x-amz-checksum-mode": "ENABLED",
    });
    const sdk = await getSignedUrl(
      weed.client,
      new GetObjectCommand({ Bucket: BUCKET, Key: "signed/dir with space/f+1.txt" }),
      { expiresIn: 900, signingDate: new Date(signedAt) },
    );
    const params = (u: string) => Object.fromEntries(new URL(u).searchParams.entries());
    expect(new URL(ours).pathname).toBe(new URL(sdk).pathname);
    expect(params(ours)).toEqual(params(sdk));

    // A short-lived URL is served, then refused once it expired. It is fetched first: on a loaded
    // machine the checks below took longer than its lifetime (the others use a long-lived one).
    const shortSignedAt = Date.now();
    const short = presigner.url("signed/dir with space/f+1.txt", shortSignedAt, 5);
    expect(await (await fetch(short)).text()).toBe("signed bytes");
    const url = presigner.url("signed/dir with space/f+1.txt", Date.now() - 1000, 900);
    expect(await (await fetch(url)).text()).toBe("signed bytes");
    const ranged = await fetch(url, { headers: { Range: "bytes=7-11" } });
    expect(ranged.status).toBe(206);
    expect(await ranged.text()).toBe("bytes");
    const tampered = url.replace("f%2B1.txt", "f%2B2.txt");
    expect((await fetch(tampered)).status).toBe(403);
    const forged = url.replace(
      /X-Amz-Signature=([0-9a-f])/,
      (_m, c: string) => `X-Amz-Signature=${c === "0" ? "1" : "0"}`,
    );
    expect((await fetch(forged)).status).toBe(403);
    await new Promise((r) => setTimeout(r, Math.max(0, shortSignedAt + 6500 - Date.now())));
    expect((await fetch(short)).status).toBe(403);
  });
});

describe("temporary credentials", () => {
  it("read and list under the prefix only; refused outside it and for writes", async () => {
    const storage = new S3Storage(`s3://${BUCKET}/vend`);
    await storage.write("t1/_delta_log/00000000000000000000.json", text("{}"));
    await storage.write("t1/part-0.parquet", text("inside"));
    await storage.write("t2/part-0.parquet", text("outside"));
    const creds = await vendReadCredentials({ location: `s3://${BUCKET}/vend/t1`, roleArn: weed.roleArn });
    expect(creds.location).toBe(`s3://${BUCKET}/vend/t1`);
    expect(creds.expiration).toBeGreaterThan(Date.now() + 600_000);
    expect(creds.expiration).toBeLessThanOrEqual(Date.now() + 960_000);
    const scoped = new S3Client({
      endpoint: weed.endpoint,
      region: weed.region,
      forcePathStyle: true,
      credentials: {
        accessKeyId: creds.accessKeyId,
        secretAccessKey: creds.secretAccessKey,
        sessionToken: creds.sessionToken,
      },
    });
    const asScoped = new S3Storage(`s3://${BUCKET}/vend/t1`, { credentials: creds });
    expect((await asScoped.list("")).map((f) => f.path)).toEqual([
      "_delta_log/00000000000000000000.json",
      "part-0.parquet",
    ]);
    expect(decode(await asScoped.read("part-0.parquet"))).toBe("inside");
    const outside = new S3Storage(`s3://${BUCKET}/vend/t2`, { credentials: creds });
    await expect(outside.read("part-0.parquet")).rejects.toThrow(
      `S3 refused the credentials for read of s3://${BUCKET}/vend/t2/part-0.parquet`,
    );
    await expect(outside.list("")).rejects.toThrow("S3 refused the credentials for list");
    await expect(
      scoped.send(new PutObjectCommand({ Bucket: BUCKET, Key: "vend/t1/new.parquet", Body: "x" })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    scoped.destroy();
  });
});

describe("bad input: a clear error naming the location", () => {
  let plain: Server;
  let plainUrl: string;
  beforeAll(async () => {
    // A stand-in for a store without conditional writes: a tiny S3 lookalike that accepts every
    // PUT and ignores If-None-Match (no S3 server installable here lacks it; see the notes).
    const objects = new Map<string, Buffer>();
    plain = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const key = (req.url ?? "").split("?")[0]!;
        if (req.method === "PUT") {
          objects.set(key, Buffer.concat(chunks));
          res.writeHead(200, { ETag: '"x"' }).end();
        } else if (req.method === "HEAD" && key.replace(/\/$/, "") === "/plain-bucket") {
          res.writeHead(200).end();
        } else if (req.method === "DELETE") {
          objects.delete(key);
          res.writeHead(204).end();
        } else {
          res.writeHead(404).end();
        }
      });
    });
    await new Promise<void>((r) => plain.listen(0, "127.0.0.1", r));
    plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => plain.close(() => r())));

  const schema = {
    type: "struct" as const,
    fields: [{ name: "id", type: "long", nullable: false, metadata: {} }],
  };

  it("a wrong endpoint", async () => {
    const storage = new S3Storage(`s3://${BUCKET}/t`, { endpoint: "http://127.0.0.1:1" });
    await expect(DeltaTable.open(`s3://${BUCKET}/t`, { storage })).rejects.toThrow(
      `delta: cannot reach the S3 endpoint http://127.0.0.1:1 for list of s3://${BUCKET}/t/_delta_log/`,
    );
  });

  it("bad credentials", async () => {
    const storage = new S3Storage(`s3://${BUCKET}/t`, {
      credentials: { accessKeyId: weed.accessKeyId, secretAccessKey: "wrong" },
    });
    // Refused at the bucket check, or (when this bucket was checked already) at the first write.
    await expect(DeltaTable.create(`s3://${BUCKET}/t`, { schema, storage })).rejects.toThrow(
      new RegExp(`^delta: S3 refused the credentials for (write of )?s3://${BUCKET}/t[ /]`),
    );
    await expect(DeltaTable.open(`s3://${BUCKET}/t`, { storage })).rejects.toThrow(
      `delta: S3 refused the credentials for list of s3://${BUCKET}/t/_delta_log/ (SignatureDoesNotMatch`,
    );
  });

  it("a missing bucket", async () => {
    await expect(DeltaTable.create("s3://arcuate-no-such-bucket/t", { schema })).rejects.toThrow(
      "delta: bucket 'arcuate-no-such-bucket' does not exist (s3://arcuate-no-such-bucket/t)",
    );
  });

  it("a store that ignores If-None-Match is refused before anything is committed", async () => {
    const storage = new S3Storage("s3://plain-bucket/t", {
      endpoint: plainUrl,
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
    });
    await expect(storage.putIfAbsent("_delta_log/00000000000000000000.json", text("{}"))).rejects.toThrow(
      `delta: the S3 store of s3://plain-bucket/t (${plainUrl}) ignores If-None-Match: * on PutObject`,
    );
  });
});
