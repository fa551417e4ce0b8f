// SigV4 query signing of S3 GET URLs (AWS "Authenticating Requests: Using Query Parameters"),
// synchronous and with the derived signing key kept per day: the sharing server signs one URL per
// data file in every answer, on a generator that yields lines as the socket takes them. The AWS
// SDK's presigner is asynchronous and rebuilds a request per URL; test/s3/presign.test.ts checks
// that this produces the same URL as @aws-sdk/s3-request-presigner, byte for byte.
import { createHmac, hash } from "node:crypto";

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** When the credentials stop working (ms), if they do. */
  expiration?: number;
}

export interface PresignTarget {
  /** Origin of the S3 endpoint, e.g. `http://127.0.0.1:9000` or `https://s3.eu-west-1.amazonaws.com`. */
  endpoint: string;
  region: string;
  bucket: string;
  /** Path-style (`/bucket/key`) rather than virtual-hosted (`bucket.host/key`) URLs. */
  pathStyle: boolean;
}

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters. */
function encode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** A key as a URL path: each segment encoded, the slashes kept (encodeURIComponent leaves no other "%2F"). */
function encodeKey(key: string): string {
  if (/^[A-Za-z0-9\-._~/]*$/.test(key)) return key; // nothing to encode: most data file names
  const encoded = encodeURIComponent(key);
  const slashes = encoded.includes("%2F") ? encoded.replace(/%2F/g, "/") : encoded;
  return /[!'()*]/.test(slashes)
    ? slashes.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    : slashes;
}

function amzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

export class S3Presigner {
  private readonly origin: string;
  private readonly host: string;
  private readonly basePath: string;
  private keyDay = "";
  private signingKey: Buffer = Buffer.alloc(0);

  constructor(
    private readonly target: PresignTarget,
    readonly credentials: SigningCredentials,
  ) {
    const url = new URL(target.endpoint);
    if (target.pathStyle) {
      this.host = url.host;
      this.basePath = `/${encode(target.bucket)}/`;
    } else {
      this.host = `${target.bucket}.${url.host}`;
      this.basePath = "/";
    }
    this.origin = `${url.protocol}//${this.host}`;
  }

  /**
   * A GET URL for `key`, signed as of `signedAt` (ms) and valid for `expiresSeconds` (1 s to 7 days,
   * S3's limits). Signing at a given time, rather than now, lets a caller round it so that the same
   * file asked for again soon gets the same URL.
   */
  url(key: string, signedAt: number, expiresSeconds: number, extra: Record<string, string> = {}): string {
    return this.signer(signedAt, expiresSeconds, extra)(key);
  }

  /**
   * Signs many keys at one time and lifetime, as an answer's files are: date, scope, query string
   * and signing key are computed once, and each key costs its path, one SHA-256 and one HMAC.
   */
  signer(
    signedAt: number,
    expiresSeconds: number,
    extra: Record<string, string> = {},
  ): (key: string) => string {
    const date = amzDate(signedAt);
    const day = date.slice(0, 8);
    const scope = `${day}/${this.target.region}/s3/aws4_request`;
    const params: Array<[string, string]> = [
      ["X-Amz-Algorithm", "AWS4-HMAC-SHA256"],
      ["X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"],
      ["X-Amz-Credential", `${this.credentials.accessKeyId}/${scope}`],
      ["X-Amz-Date", date],
      ["X-Amz-Expires", String(Math.max(1, Math.min(604_800, Math.floor(expiresSeconds))))],
    ];
    if (this.credentials.sessionToken) params.push(["X-Amz-Security-Token", this.credentials.sessionToken]);
    params.push(["X-Amz-SignedHeaders", "host"]);
    params.push(["x-id", "GetObject"]);
    for (const [k, v] of Object.entries(extra)) params.push([k, v]);
    params.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const query = params.map(([k, v]) => `${encode(k)}=${encode(v)}`).join("&");
    const canonicalTail = `\n${query}\nhost:${this.host}\n\nhost\nUNSIGNED-PAYLOAD`;
    const toSignHead = `AWS4-HMAC-SHA256\n${date}\n${scope}\n`;
    const urlTail = `?${query}&X-Amz-Signature=`;
    const signingKey = this.key(day);
    return (key) => {
      const path = this.basePath + encodeKey(key);
      const canonicalHash = hash("sha256", `GET\n${path}${canonicalTail}`, "hex");
      const signature = createHmac("sha256", signingKey)
        .update(toSignHead + canonicalHash)
        .digest("hex");
      return this.origin + path + urlTail + signature;
    };
  }

  private key(day: string): Buffer {
    if (day !== this.keyDay) {
      const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data).digest();
      const kDate = hmac(`AWS4${this.credentials.secretAccessKey}`, day);
      this.signingKey = hmac(hmac(hmac(kDate, this.target.region), "s3"), "aws4_request");
      this.keyDay = day;
    }
    return this.signingKey;
  }
}
