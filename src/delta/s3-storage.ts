// A Storage on S3 and S3-compatible servers, with the AWS SDK v3 S3 client. Credentials come from
// the SDK's standard chain (AWS_ACCESS_KEY_ID/…, AWS_PROFILE and the profile files, SSO, IMDS);
// an endpoint override (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, or the `endpoint` option) turns
// on path-style addressing for servers such as SeaweedFS. Commits stay atomic through
// `If-None-Match: *` on PutObject; a store that ignores it is detected once per bucket and refused
// before any commit is written. The SDK is loaded on first use, so local-only runs never pay for it.
import { randomUUID } from "node:crypto";
import { PassThrough, Readable } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import { ArcuateError, AuthError, ConflictError, NotFoundError } from "../errors.js";
import { formatS3Location, parseS3Location, type S3Location } from "./s3-location.js";
import { S3Presigner, type SigningCredentials } from "./s3-presign.js";
import type { FileInfo, Storage } from "./storage.js";

export interface S3StorageOptions {
  /** Endpoint of an S3-compatible server. Default: AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else AWS. */
  endpoint?: string;
  /** Default: AWS_REGION / AWS_DEFAULT_REGION / the profile's region; us-east-1 with an endpoint override. */
  region?: string;
  /** Path-style addressing. Default: on when an endpoint is given. */
  pathStyle?: boolean;
  /** Explicit credentials instead of the standard chain. */
  credentials?: SigningCredentials;
}

/** Objects at least this large are written as multipart uploads, parts of this size. */
const MULTIPART_BYTES = 16 << 20;
const PART_BYTES = 8 << 20;

type Sdk = typeof import("@aws-sdk/client-s3");
let sdk: Promise<Sdk> | undefined;
function loadSdk(): Promise<Sdk> {
  // The SDK warns on every Node 20 process that later releases will need Node 22; the versions
  // pinned here support Node 20, so the warning only adds noise to the CLI's stderr.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  sdk ??= import("@aws-sdk/client-s3");
  return sdk;
}

/** Buckets already checked for conditional writes, by endpoint and bucket. */
const conditionalChecks = new Map<string, Promise<void>>();

export function s3Endpoint(options: S3StorageOptions = {}): string | undefined {
  const value = options.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  return value === undefined || value === "" ? undefined : value.replace(/\/+$/, "");
}

export class S3Storage implements Storage {
  readonly bucket: string;
  /** The key prefix of the storage root: "" or ending in "/". */
  readonly root: string;
  /** The canonical location, `s3://bucket/prefix`, used in every error message. */
  readonly location: string;
  readonly endpoint: string | undefined;
  private readonly pathStyle: boolean;
  private clientPromise?: Promise<S3Client>;
  private presignerPromise?: Promise<S3Presigner>;

  constructor(
    location: string | S3Location,
    private readonly options: S3StorageOptions = {},
  ) {
    const parsed = typeof location === "string" ? parseS3Location(location) : location;
    this.bucket = parsed.bucket;
    this.root = parsed.root;
    this.location = formatS3Location(parsed);
    this.endpoint = s3Endpoint(options);
    this.pathStyle = options.pathStyle ?? this.endpoint !== undefined;
  }

  /** A storage rooted at a folder below this one (same client settings). */
  child(prefix: string): S3Storage {
    return new S3Storage(
      { bucket: this.bucket, root: `${this.root}${prefix.replace(/^\/+|\/+$/g, "")}/`, location: "" },
      this.options,
    );
  }

  /** The object key of a path relative to the root. */
  key(path: string): string {
    return this.root + path;
  }

  client(): Promise<S3Client> {
    this.clientPromise ??= loadSdk().then(({ S3Client }) => {
      const region =
        this.options.region ??
        process.env.AWS_REGION ??
        process.env.AWS_DEFAULT_REGION ??
        (this.endpoint !== undefined ? "us-east-1" : undefined);
      return new S3Client({
        ...(region !== undefined ? { region } : {}),
        ...(this.endpoint !== undefined ? { endpoint: this.endpoint } : {}),
        forcePathStyle: this.pathStyle,
        ...(this.options.credentials ? { credentials: sdkCredentials(this.options.credentials) } : {}),
        maxAttempts: 3,
      });
    });
    return this.clientPromise;
  }

  async list(prefix: string, options: { startAfter?: string } = {}): Promise<FileInfo[]> {
    const { ListObjectsV2Command } = await loadSdk();
    const client = await this.client();
    const out: FileInfo[] = [];
    let token: string | undefined;
    do {
      const page = await this.call("list", prefix, () =>
        client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.key(prefix),
            ...(token ? { ContinuationToken: token } : {}),
            ...(options.startAfter !== undefined && !token
              ? { StartAfter: this.key(options.startAfter) }
              : {}),
          }),
        ),
      );
      for (const object of page.Contents ?? []) {
        const key = object.Key;
        if (key === undefined || key.endsWith("/")) continue; // folder markers
        out.push({
          path: key.slice(this.root.length),
          size: object.Size ?? 0,
          modificationTime: object.LastModified?.getTime() ?? 0,
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    // S3 lists in UTF-8 byte order; the contract's order is JavaScript's string order.
    out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return out;
  }

  async read(path: string, range?: { offset: number; length: number }): Promise<Uint8Array> {
    if (range && range.length === 0) return new Uint8Array(0);
    const body = await this.get(path, range);
    return body.transformToByteArray();
  }

  readStream(path: string, range?: { offset: number; length?: number }): NodeJS.ReadableStream {
    const out = new PassThrough();
    this.get(path, range).then(
      (body) => {
        const source = body as unknown as Readable;
        source.on("error", (error) => out.destroy(error));
        source.pipe(out);
      },
      (error: unknown) => out.destroy(error instanceof Error ? error : new Error(String(error))),
    );
    return out;
  }

  private async get(
    path: string,
    range?: { offset: number; length?: number },
  ): Promise<{ transformToByteArray(): Promise<Uint8Array> }> {
    const { GetObjectCommand } = await loadSdk();
    const client = await this.client();
    const start = range?.offset ?? 0;
    const header =
      range === undefined
        ? undefined
        : range.length === undefined
          ? `bytes=${start}-`
          : `bytes=${start}-${start + range.length - 1}`;
    const answer = await this.call("read", path, () =>
      client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.key(path),
          ...(header ? { Range: header } : {}),
        }),
      ),
    );
    if (!answer.Body)
      throw new ArcuateError("CONNECTION_FAILED", `delta: ${this.describe(path)} answered without a body`);
    return answer.Body;
  }

  async write(path: string, data: Uint8Array): Promise<void> {
    if (data.length >= MULTIPART_BYTES) {
      await this.writeStream(
        path,
        Readable.from([Buffer.from(data.buffer, data.byteOffset, data.byteLength)]),
      );
      return;
    }
    const { PutObjectCommand } = await loadSdk();
    const client = await this.client();
    // A PUT replaces the whole object atomically: readers see the old or the new bytes.
    await this.call("write", path, () =>
      client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(path), Body: data })),
    );
  }

  /** Streams `source` to `path` as a multipart upload (parts of 8 MiB, four in flight), never whole in memory. */
  async writeStream(path: string, source: Readable | AsyncIterable<Uint8Array>): Promise<void> {
    const [{ Upload }, client] = await Promise.all([import("@aws-sdk/lib-storage"), this.client()]);
    const body = source instanceof Readable ? source : Readable.from(source);
    const upload = new Upload({
      client,
      params: { Bucket: this.bucket, Key: this.key(path), Body: body },
      partSize: PART_BYTES,
      queueSize: 4,
      leavePartsOnError: false, // a failed upload is aborted, leaving no parts behind
    });
    await this.call("write", path, () => upload.done());
  }

  async putIfAbsent(path: string, data: Uint8Array): Promise<void> {
    await this.requireConditionalWrites();
    await this.createIfAbsent(path, data);
  }

  private async createIfAbsent(path: string, data: Uint8Array): Promise<void> {
    const { PutObjectCommand } = await loadSdk();
    const client = await this.client();
    try {
      await client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: this.key(path), Body: data, IfNoneMatch: "*" }),
      );
    } catch (error) {
      const status = httpStatus(error);
      // 412: the object exists. 409: another conditional write of the same key is in flight (AWS).
      if (status === 412 || status === 409)
        throw new ConflictError(`delta: ${path} already exists in ${this.location}`, { cause: error });
      throw this.translate(error, "write", path);
    }
  }

  /**
   * Creating the same probe object twice with `If-None-Match: *` must fail the second time. A
   * store that accepts both would let two writers commit the same version, so it is refused.
   */
  requireConditionalWrites(): Promise<void> {
    const id = `${this.endpoint ?? "aws"}\n${this.bucket}`;
    let check = conditionalChecks.get(id);
    if (!check) {
      check = this.probeConditionalWrites();
      conditionalChecks.set(id, check);
      check.catch(() => conditionalChecks.delete(id));
    }
    return check;
  }

  private async probeConditionalWrites(): Promise<void> {
    // Some servers (SeaweedFS) create a missing bucket on the first PUT; a table's bucket must exist.
    const { HeadBucketCommand } = await loadSdk();
    const client = await this.client();
    await client.send(new HeadBucketCommand({ Bucket: this.bucket })).catch((error: unknown) => {
      const status = httpStatus(error);
      if (status === 404 || errorName(error) === "NoSuchBucket" || errorName(error) === "NotFound")
        throw new NotFoundError(`delta: bucket '${this.bucket}' does not exist (${this.location})`, {
          cause: error,
        });
      if (status === 401 || status === 403 || status === 400)
        throw new AuthError(
          `delta: S3 refused the credentials for ${this.location} (HeadBucket: ${status})`,
          {
            code: "PERMISSION_DENIED",
            cause: error,
          },
        );
      throw this.translate(error, "check of the bucket", "");
    });
    const probe = `_delta_log/.arcuate-conditional-write-probe-${randomUUID()}`;
    const bytes = new TextEncoder().encode("probe");
    await this.createIfAbsent(probe, bytes);
    let honoured = false;
    try {
      await this.createIfAbsent(probe, bytes);
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      honoured = true;
    } finally {
      await this.delete(probe).catch(() => undefined);
    }
    if (!honoured) {
      throw new ArcuateError(
        "UNSUPPORTED_FEATURE",
        `delta: the S3 store of ${this.location}${this.endpoint ? ` (${this.endpoint})` : ""} ignores If-None-Match: * on PutObject, so commits there could overwrite each other; use a store with conditional writes`,
      );
    }
  }

  async delete(path: string): Promise<void> {
    const { DeleteObjectCommand } = await loadSdk();
    const client = await this.client();
    await this.call("delete", path, () =>
      client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(path) })),
    );
  }

  async stat(path: string): Promise<FileInfo | undefined> {
    const { HeadObjectCommand } = await loadSdk();
    const client = await this.client();
    try {
      const head = await client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(path) }));
      return { path, size: head.ContentLength ?? 0, modificationTime: head.LastModified?.getTime() ?? 0 };
    } catch (error) {
      if (httpStatus(error) === 404 && errorName(error) !== "NoSuchBucket") return undefined;
      throw this.translate(error, "stat", path);
    }
  }

  /**
   * A presigner holding the current credentials; fetched again when they are within five minutes
   * of their expiry. `expiration` on its credentials bounds the URLs it may sign.
   */
  presigner(): Promise<S3Presigner> {
    const current = this.presignerPromise;
    if (current) {
      return current.then((p) => {
        const expiry = p.credentials.expiration;
        if (expiry === undefined || expiry - Date.now() > 300_000) return p;
        this.presignerPromise = undefined;
        return this.presigner();
      });
    }
    const pending = (async () => {
      const client = await this.client();
      const identity = await client.config.credentials();
      const region = await client.config.region();
      const endpoint = this.endpoint ?? `https://s3.${region}.amazonaws.com`;
      const credentials: SigningCredentials = {
        accessKeyId: identity.accessKeyId,
        secretAccessKey: identity.secretAccessKey,
        ...(identity.sessionToken ? { sessionToken: identity.sessionToken } : {}),
        ...(identity.expiration ? { expiration: identity.expiration.getTime() } : {}),
      };
      // Virtual-hosted URLs need a DNS-safe bucket name; dotted names stay path-style.
      const pathStyle = this.pathStyle || this.bucket.includes(".");
      return new S3Presigner({ endpoint, region, bucket: this.bucket, pathStyle }, credentials);
    })();
    this.presignerPromise = pending;
    pending.catch(() => {
      if (this.presignerPromise === pending) this.presignerPromise = undefined;
    });
    return pending;
  }

  private describe(path: string): string {
    return `${this.location.replace(/\/$/, "")}/${path}`;
  }

  private async call<T>(op: string, path: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw this.translate(error, op, path);
    }
  }

  /** An SDK failure as an ArcuateError naming the location (and the endpoint when it is unreachable). */
  private translate(error: unknown, op: string, path: string): ArcuateError {
    if (error instanceof ArcuateError) return error;
    const name = errorName(error);
    const status = httpStatus(error);
    const where = this.describe(path);
    const detail = error instanceof Error ? error.message : String(error);
    if (name === "NoSuchBucket")
      return new NotFoundError(`delta: bucket '${this.bucket}' does not exist (${this.location})`, {
        cause: error,
      });
    if (name === "NoSuchKey" || (status === 404 && op !== "list"))
      return new NotFoundError(`delta: file not found: ${where}`, { cause: error });
    if (
      name === "InvalidAccessKeyId" ||
      name === "SignatureDoesNotMatch" ||
      name === "ExpiredToken" ||
      name === "InvalidToken" ||
      name === "CredentialsProviderError" ||
      status === 401 ||
      status === 403
    ) {
      return new AuthError(
        `delta: S3 refused the credentials for ${op} of ${where} (${name ?? status}: ${detail})`,
        {
          code: "PERMISSION_DENIED",
          cause: error,
        },
      );
    }
    if (status === undefined) {
      return new ArcuateError(
        "CONNECTION_FAILED",
        `delta: cannot reach the S3 endpoint ${this.endpoint ?? "(AWS)"} for ${op} of ${where}: ${detail}`,
        { cause: error },
      );
    }
    return new ArcuateError(
      "CONNECTION_FAILED",
      `delta: S3 ${op} of ${where} failed (${status} ${name}): ${detail}`,
      {
        cause: error,
      },
    );
  }
}

function errorName(error: unknown): string | undefined {
  const e = error as { name?: unknown; Code?: unknown };
  return typeof e?.Code === "string" ? e.Code : typeof e?.name === "string" ? e.name : undefined;
}

function httpStatus(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } })?.$metadata?.httpStatusCode;
  return typeof status === "number" ? status : undefined;
}

function sdkCredentials(c: SigningCredentials) {
  return {
    accessKeyId: c.accessKeyId,
    secretAccessKey: c.secretAccessKey,
    ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}),
    ...(c.expiration !== undefined ? { expiration: new Date(c.expiration) } : {}),
  };
}
