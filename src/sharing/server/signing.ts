// Pre-signed file URLs, served by the server itself:
//
//   {origin}{prefix}/files/{payload}?Expires={ms}&X-Amz-Signature={hmac}
//
// `payload` is base64url JSON naming the recipient, the table (share, schema, table) and the
// file's path as the Delta log has it; the HMAC covers payload and expiry. The query parameter is
// called `X-Amz-Signature` on purpose: delta-kernel-rs (used by the Python connector for the
// `delta` response format) recognises a pre-signed URL by that parameter and only then fetches it
// over HTTP. A URL is checked (signature, expiry) before anything else is looked at; then the
// recipient's grant is checked again, so revoking a grant also stops outstanding URLs.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { S3Presigner } from "../../delta/index.js";
import { canonicalPath } from "../../delta/replay.js";
import { ArcuateError } from "../../errors.js";

export interface FileRef {
  /** Principal id the URL was issued to. */
  r: string;
  s: string;
  c: string;
  t: string;
  /** The file's path as written in the Delta log (relative to the table, URL-encoded). */
  p: string;
}

export class UrlSigner {
  constructor(
    private readonly key: Buffer,
    readonly ttlMs: number,
  ) {}

  /**
   * The expiry of URLs signed at `now`. It is rounded up to a step of a tenth of the lifetime (at
   * most a minute), so that the same file asked for again within the step gets the same URL:
   * responses can then reuse signed lines instead of computing an HMAC per file per request.
   */
  expiry(now: number): number {
    const step = this.stepMs;
    return Math.ceil((now + this.ttlMs) / step) * step;
  }

  /** The rounding step of {@link expiry}: a tenth of the lifetime, at most a minute. */
  get stepMs(): number {
    return Math.max(1, Math.min(60_000, Math.floor(this.ttlMs / 10)));
  }

  /** Signs a file reference; `base` is `{origin}{prefix}`. */
  sign(base: string, ref: FileRef, expires: number): { url: string; expirationTimestamp: number } {
    const payload = Buffer.from(JSON.stringify(ref), "utf8").toString("base64url");
    return { url: this.signPayload(base, payload, expires), expirationTimestamp: expires };
  }

  /** The URL for an already encoded payload (base64url of a FileRef's JSON). */
  signPayload(base: string, payload: string, expires: number): string {
    return `${base}/files/${payload}?Expires=${expires}&X-Amz-Signature=${this.mac(payload, expires)}`;
  }

  /** Checks a presented URL; throws 403 PERMISSION_DENIED when tampered with or expired. */
  verify(payload: string, query: URLSearchParams, now: number): FileRef {
    const denied = (why: string) => new ArcuateError("PERMISSION_DENIED", `sharing: file URL ${why}`);
    const expiresText = query.get("Expires") ?? "";
    const signature = query.get("X-Amz-Signature") ?? "";
    if (!/^\d{1,15}$/.test(expiresText) || !/^[0-9a-f]{64}$/.test(signature) || payload.length > 8192) {
      throw denied("is not signed");
    }
    const expected = Buffer.from(this.mac(payload, Number(expiresText)), "hex");
    if (!timingSafeEqual(expected, Buffer.from(signature, "hex"))) throw denied("has a bad signature");
    if (Number(expiresText) <= now) throw denied("has expired");
    let ref: FileRef;
    try {
      ref = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as FileRef;
    } catch {
      throw denied("is not signed");
    }
    if (![ref.r, ref.s, ref.c, ref.t, ref.p].every((v) => typeof v === "string"))
      throw denied("is not signed");
    return ref;
  }

  private mac(payload: string, expires: number): string {
    return createHmac("sha256", this.key).update(`file\n${payload}\n${expires}`).digest("hex");
  }
}

/**
 * The URLs of one answer's files: either the server's own signed URLs, or (for tables on object
 * storage) SigV4 pre-signed URLs of the bucket, so recipients download from the store and the
 * server never touches a data file. All URLs of an answer share one expiry.
 */
export interface FileUrls {
  readonly expirationTimestamp: number;
  /** The URL of a file, by its path as the Delta log has it. */
  url(logPath: string): string;
}

/** URLs served by this server: `{base}/files/{payload}?Expires=…&X-Amz-Signature=…`. */
export function selfServedUrls(
  signer: UrlSigner,
  base: string,
  ref: Omit<FileRef, "p">,
  now: number,
): FileUrls {
  const expirationTimestamp = signer.expiry(now);
  const refPrefix = JSON.stringify({ r: ref.r, s: ref.s, c: ref.c, t: ref.t }).slice(0, -1);
  return {
    expirationTimestamp,
    url: (p) =>
      signer.signPayload(
        base,
        Buffer.from(`${refPrefix},"p":${JSON.stringify(p)}}`, "utf8").toString("base64url"),
        expirationTimestamp,
      ),
  };
}

/**
 * Pre-signed URLs of the table's bucket. They expire with the server's own URLs (same step, so
 * a repeated answer reuses its lines), but never after the signing credentials do: a URL signed
 * with credentials that expired stops working then, whatever it says.
 */
export function objectStoreUrls(
  signer: UrlSigner,
  store: { presigner: S3Presigner; bucket: string; root: string },
  now: number,
): FileUrls {
  let expiry = signer.expiry(now);
  // Signed as of the start of the current step (at most a minute ago), not now: URLs signed within
  // one step are then equal, so a repeated answer reuses its lines (lines.ts) instead of signing again.
  const signedAt = Math.floor(now / signer.stepMs) * signer.stepMs;
  const credentialsExpiry = store.presigner.credentials.expiration;
  if (credentialsExpiry !== undefined && credentialsExpiry < expiry) expiry = credentialsExpiry;
  // SigV4 URLs live 1 s to 7 days.
  const seconds = Math.max(1, Math.min(604_800, Math.floor((expiry - signedAt) / 1000)));
  const expirationTimestamp = signedAt + seconds * 1000;
  const sameBucket = `s3://${store.bucket}/`;
  const sign = store.presigner.signer(signedAt, seconds);
  return {
    expirationTimestamp,
    url: (logPath) => {
      let key: string;
      if (/^s3a?:\/\//i.test(logPath)) {
        // An absolute path in the log: served only from the table's own bucket.
        const path = logPath.replace(/^s3a:/i, "s3:");
        if (!path.startsWith(sameBucket))
          throw new ArcuateError("INTERNAL_ERROR", "sharing: a file of the table lives outside its bucket");
        key = canonicalPath(path.slice(sameBucket.length));
      } else if (/^[a-z][a-z0-9+.-]*:/i.test(logPath) || logPath.startsWith("/")) {
        throw new ArcuateError("INTERNAL_ERROR", "sharing: a file of the table lives outside its bucket");
      } else {
        key = store.root + canonicalPath(logPath);
      }
      return sign(key);
    },
  };
}
