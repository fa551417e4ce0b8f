// The expiry of pre-signed S3 URLs in an answer: the server's lifetime, rounded to its step, but
// never past the signing credentials' own expiry. No I/O: the URLs are only built.
import { describe, expect, it } from "vitest";
import { S3Presigner } from "../../src/delta/index.js";
import { objectStoreUrls, UrlSigner } from "../../src/sharing/server/signing.js";

const target = { endpoint: "http://127.0.0.1:9000", region: "us-east-1", bucket: "bkt", pathStyle: true };
const now = Date.UTC(2026, 11, 1, 12, 0, 0);

function expiresOf(url: string): { signedAt: number; seconds: number } {
  const q = new URL(url).searchParams;
  const d = q.get("X-Amz-Date")!;
  const signedAt = Date.UTC(
    +d.slice(0, 4),
    +d.slice(4, 6) - 1,
    +d.slice(6, 8),
    +d.slice(9, 11),
    +d.slice(11, 13),
    +d.slice(13, 15),
  );
  return { signedAt, seconds: Number(q.get("X-Amz-Expires")) };
}

describe("pre-signed URL expiry", () => {
  it("is the server's URL lifetime when the credentials live longer", () => {
    const presigner = new S3Presigner(target, { accessKeyId: "a", secretAccessKey: "b" });
    const urls = objectStoreUrls(
      new UrlSigner(Buffer.alloc(32), 3_600_000),
      { presigner, bucket: "bkt", root: "t/" },
      now,
    );
    const url = urls.url("p%3D1/part-0.parquet");
    expect(url.startsWith("http://127.0.0.1:9000/bkt/t/p%3D1/part-0.parquet?")).toBe(true);
    const { signedAt, seconds } = expiresOf(url);
    expect(signedAt).toBeLessThanOrEqual(now);
    expect(signedAt + seconds * 1000).toBe(urls.expirationTimestamp);
    expect(urls.expirationTimestamp).toBeGreaterThanOrEqual(now + 3_600_000);
    expect(urls.expirationTimestamp).toBeLessThan(now + 3_600_000 + 60_000);
  });

  it("is the same URL for a file asked again within one step, so answers can reuse their lines", () => {
    const presigner = new S3Presigner(target, { accessKeyId: "a", secretAccessKey: "b" });
    const signer = new UrlSigner(Buffer.alloc(32), 3_600_000);
    const store = { presigner, bucket: "bkt", root: "t/" };
    const at = (ms: number) => objectStoreUrls(signer, store, ms).url("part-0.parquet");
    const first = at(now + 1_000);
    expect(at(now + 59_000)).toBe(first);
    expect(at(now + 61_000)).not.toBe(first);
    // The date signed is the step's start, in the past, and the URL still lives the full lifetime.
    const { signedAt, seconds } = expiresOf(first);
    expect(signedAt).toBe(now);
    expect(signedAt + seconds * 1000).toBeGreaterThanOrEqual(now + 1_000 + 3_600_000);
    // One answer's signer gives what signing each URL alone gives.
    expect(presigner.signer(now, 900)("a b/c+d!.parquet")).toBe(presigner.url("a b/c+d!.parquet", now, 900));
  });

  it("never outlives the signing credentials", () => {
    const expiration = now + 1_000_000;
    const presigner = new S3Presigner(target, {
      accessKeyId: "a",
      secretAccessKey: "b",
      sessionToken: "t",
      expiration,
    });
    const urls = objectStoreUrls(
      new UrlSigner(Buffer.alloc(32), 3_600_000),
      { presigner, bucket: "bkt", root: "" },
      now,
    );
    expect(urls.expirationTimestamp).toBeLessThanOrEqual(expiration);
    const { signedAt, seconds } = expiresOf(urls.url("x.parquet"));
    expect(signedAt + seconds * 1000).toBe(urls.expirationTimestamp);
    expect(new URL(urls.url("x.parquet")).searchParams.get("X-Amz-Security-Token")).toBe("t");
  });

  it("refuses files outside the table's bucket", () => {
    const presigner = new S3Presigner(target, { accessKeyId: "a", secretAccessKey: "b" });
    const urls = objectStoreUrls(
      new UrlSigner(Buffer.alloc(32), 60_000),
      { presigner, bucket: "bkt", root: "t/" },
      now,
    );
    expect(urls.url("s3://bkt/elsewhere/f.parquet")).toContain("/bkt/elsewhere/f.parquet?");
    expect(() => urls.url("s3://other/f.parquet")).toThrow("lives outside its bucket");
    expect(() => urls.url("file:///etc/passwd")).toThrow("lives outside its bucket");
  });
});
