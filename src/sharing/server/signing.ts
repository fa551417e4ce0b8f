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
    const step = Math.max(1, Math.min(60_000, Math.floor(this.ttlMs / 10)));
    return Math.ceil((now + this.ttlMs) / step) * step;
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
