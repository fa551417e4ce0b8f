// Downloading the data files of a query: pre-signed URLs, fetched without the bearer token (the
// token is for the sharing server only), retried on 429/5xx and connection errors, and refreshed
// when they expire during a long load: the query is asked again and files are matched by `id`,
// which the protocol guarantees stable across requests (#file).

import { ArcuateError } from "../../errors.js";
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
  async download(file: SharedFile): Promise<Uint8Array> {
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
        return await withRetries(() => this.fetchOnce(latest), isRetryableError, {
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

  private async fetchOnce(file: SharedFile): Promise<Uint8Array> {
    let response: Response;
    try {
      response = await (this.http.fetch ?? fetch)(file.url, {
        signal: AbortSignal.timeout(this.http.timeoutMs ?? 300_000),
      });
    } catch (error) {
      throw connectionError(`downloading file ${file.id}`, error);
    }
    if (!response.ok) throw await responseError(`downloading file ${file.id}`, response);
    try {
      return new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      throw connectionError(`downloading file ${file.id}`, error);
    }
  }
}
