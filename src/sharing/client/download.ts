// Downloading the data files of a query: pre-signed URLs, fetched without the bearer token (the
// token is for the sharing server only), retried on 429/5xx and connection errors, and refreshed
// when they expire during a long load: the query is asked again and files are matched by `id`,
// which the protocol guarantees stable across requests (#file).

import { decodeDeletionVector, decodeZ85 } from "../../delta/deletion-vectors.js";
import { ArcuateError } from "../../errors.js";
import { type GetResult, getBytes } from "./get-bytes.js";
import { connectionError, type HttpOptions, isRetryableError, responseError, withRetries } from "./http.js";
import type { SharedFile, TableResponse } from "./response.js";

/** URLs closer than this to their expiry are refreshed before use, not tried and failed. */
const EXPIRY_MARGIN_MS = 5_000;
/** Refreshes tried for one file before giving up. */
const MAX_REFRESHES = 3;

/** Statuses a storage service answers an expired pre-signed URL with (S3/Azure 403, GCS 400, 410). */
function mayBeExpired(status: number, file: { expirationTimestamp?: number }): boolean {
  if (status === 401 || status === 403 || status === 410) return true;
  return status === 400 && file.expirationTimestamp !== undefined && file.expirationTimestamp <= Date.now();
}

function goneError(id: string): ArcuateError {
  return new ArcuateError(
    "ABORTED",
    `sharing: the URL of file ${id} expired and the file is no longer in the query's answer ` +
      "(the table changed during the load); load it again",
  );
}

export class FileDownloader {
  private readonly current = new Map<string, SharedFile>();
  private refreshing: Promise<void> | undefined;
  /** How many times the query was asked again for fresh URLs. */
  refreshes = 0;

  constructor(
    files: SharedFile[],
    private readonly requery: () => Promise<TableResponse>,
    private readonly http: HttpOptions = {},
  ) {
    for (const file of files) this.current.set(file.id, file);
  }

  /** The bytes of one file, refreshing its URL when it has expired. */
  download(file: SharedFile): Promise<Uint8Array> {
    return this.withFreshUrl(file, (latest) => this.fetchOnce(latest.url, `file ${latest.id}`));
  }

  /**
   * The deleted row positions of a file with a deletion vector: inline (`i`) vectors decode in
   * place; `p` vectors are fetched from their pre-signed URL (a range request for just the vector),
   * refreshed like the data files' URLs.
   */
  async deletedRows(file: SharedFile): Promise<number[] | undefined> {
    if (!file.deletionVector) return undefined;
    return this.withFreshUrl(file, async (latest) => {
      const dv = latest.deletionVector!;
      if (dv.storageType === "i")
        return decodeDeletionVector(decodeZ85(dv.pathOrInlineDv).subarray(0, dv.sizeInBytes));
      if (dv.storageType !== "p") {
        throw new ArcuateError(
          "UNSUPPORTED_FEATURE",
          `sharing: file ${latest.id} has a deletion vector of storage type '${dv.storageType}', which a ` +
            "recipient cannot read (the server should send 'p' with a URL)",
        );
      }
      // On disk: a 4-byte big-endian size, the serialized bitmap, a checksum (Delta PROTOCOL.md).
      const offset = dv.offset ?? 1;
      const length = 4 + dv.sizeInBytes;
      let bytes = await this.fetchOnce(dv.pathOrInlineDv, `the deletion vector of file ${latest.id}`, {
        offset,
        length,
      });
      // A server that ignores Range sends the whole file.
      if (bytes.length > length) bytes = bytes.subarray(offset, offset + length);
      const size = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(0, false);
      if (bytes.length < length || size !== dv.sizeInBytes) {
        throw new ArcuateError(
          "CORRUPT_TABLE",
          `sharing: the deletion vector of file ${latest.id} does not match its descriptor (size ${size}, expected ${dv.sizeInBytes})`,
        );
      }
      const rows = decodeDeletionVector(bytes.subarray(4, length));
      if (rows.length !== dv.cardinality) {
        throw new ArcuateError(
          "CORRUPT_TABLE",
          `sharing: the deletion vector of file ${latest.id} has ${rows.length} rows, its descriptor says ${dv.cardinality}`,
        );
      }
      return rows;
    });
  }

  /** Runs `attempt` with the file's latest URLs, refreshing them when expired (before or after). */
  private async withFreshUrl<T>(file: SharedFile, attempt: (latest: SharedFile) => Promise<T>): Promise<T> {
    for (let refreshed = 0; ; ) {
      const latest = this.current.get(file.id);
      if (!latest) throw goneError(file.id);
      if (
        latest.expirationTimestamp !== undefined &&
        latest.expirationTimestamp - EXPIRY_MARGIN_MS <= Date.now() &&
        refreshed < MAX_REFRESHES
      ) {
        refreshed++;
        await this.refresh(latest);
        continue;
      }
      try {
        return await withRetries(() => attempt(latest), isRetryableError, {
          ...this.http.retry,
          sleep: this.http.sleep,
        });
      } catch (error) {
        const status = error instanceof ArcuateError ? error.details["httpStatus"] : undefined;
        if (typeof status === "number" && mayBeExpired(status, latest) && refreshed < MAX_REFRESHES) {
          refreshed++;
          await this.refresh(latest);
          continue;
        }
        throw error;
      }
    }
  }

  /** Asks the query again, once for all files that find their URLs stale at the same time. */
  private async refresh(stale: SharedFile): Promise<void> {
    // Another download already brought a new URL for this file: nothing to ask.
    if (!this.refreshing && this.current.get(stale.id)?.url !== stale.url) return;
    this.refreshing ??= this.requery()
      .then((answer) => {
        this.refreshes++;
        const ids = new Set(answer.files.map((file) => file.id));
        for (const id of this.current.keys()) if (!ids.has(id)) this.current.delete(id);
        for (const file of answer.files) this.current.set(file.id, file);
      })
      .finally(() => {
        this.refreshing = undefined;
      });
    await this.refreshing;
    if (!this.current.has(stale.id)) throw goneError(stale.id);
  }

  private async fetchOnce(
    url: string,
    what: string,
    range?: { offset: number; length: number },
  ): Promise<Uint8Array> {
    const headers: Record<string, string> = range
      ? { range: `bytes=${range.offset}-${range.offset + range.length - 1}` }
      : {};
    const timeoutMs = this.http.timeoutMs ?? 300_000;
    // A fetch given in the options (tests, proxies) is used as given; otherwise node:http, faster.
    if (this.http.fetch) return this.viaFetch(this.http.fetch, url, what, headers, timeoutMs);
    let result: GetResult;
    try {
      result = await getBytes(url, headers, timeoutMs);
    } catch (error) {
      throw connectionError(`downloading ${what}`, new Error("download failed", { cause: error }));
    }
    if (!result.ok) throw await responseError(`downloading ${what}`, result.response);
    return result.bytes;
  }

  private async viaFetch(
    fetchImpl: typeof fetch,
    url: string,
    what: string,
    headers: Record<string, string>,
    timeoutMs: number,
  ): Promise<Uint8Array> {
    let response: Response;
    try {
      response = await fetchImpl(url, { signal: AbortSignal.timeout(timeoutMs), headers });
    } catch (error) {
      throw connectionError(`downloading ${what}`, error);
    }
    if (!response.ok) throw await responseError(`downloading ${what}`, response);
    try {
      return new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      throw connectionError(`downloading ${what}`, error);
    }
  }
}
