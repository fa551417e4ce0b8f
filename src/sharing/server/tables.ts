// Access to the Delta tables behind shares, through src/delta (no log replay here). The latest
// snapshot of each table is cached and re-read only when its `_delta_log` folder changes (a new
// commit or checkpoint is a new file, which changes the folder's mtime), so a busy query endpoint
// costs one `stat` per request instead of a log replay. Tables on object storage have no folder
// times: there one listing of the log after the latest known commit tells whether it moved.
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { DeltaTable, type S3Presigner, S3Storage, type Snapshot } from "../../delta/index.js";
import { ArcuateError, NotFoundError } from "../../errors.js";
import { Coalescer } from "./coalesce.js";

interface Entry {
  table: DeltaTable;
  /** The log's state when `latest` was read: a folder mtime, or the newest commit on object storage. */
  logMtimeNs?: bigint | string;
  /** For tables on object storage: signs the bucket's URLs with the current credentials. */
  presigner?: S3Presigner;
  latest?: Promise<Snapshot>;
  /** Snapshots by version, for time travel; small and recent-first. */
  versions: Map<number, Promise<Snapshot>>;
}

const MAX_TABLES = 256;
const MAX_VERSIONS = 8;

export class TableCache {
  private readonly entries = new Map<string, Entry>();
  private readonly stats = new Coalescer<bigint | string | undefined>();

  async table(location: string): Promise<DeltaTable> {
    return (await this.entry(location)).table;
  }

  /** The latest snapshot, read again only when the log changed. */
  async latest(location: string): Promise<Snapshot> {
    const entry = await this.entry(location);
    const storage = entry.table.storage;
    const mtimeNs = await this.stats.run(location, async () => {
      if (storage instanceof S3Storage) return newestCommitAfter(storage, entry);
      const info = await stat(join(location, "_delta_log"), { bigint: true }).catch(() => undefined);
      return info?.mtimeNs;
    });
    if (mtimeNs === undefined) throw missing();
    if (entry.latest === undefined || entry.logMtimeNs !== mtimeNs) {
      entry.logMtimeNs = mtimeNs;
      const pending = entry.table.snapshot();
      entry.latest = pending;
      pending.catch(() => {
        if (entry.latest === pending) entry.latest = undefined;
      });
    }
    return entry.latest;
  }

  /** The snapshot at a version (commits never change, so these are cached by version). */
  async at(location: string, version: number): Promise<Snapshot> {
    const entry = await this.entry(location);
    let pending = entry.versions.get(version);
    if (!pending) {
      pending = entry.table.snapshot({ version });
      entry.versions.set(version, pending);
      pending.catch(() => entry.versions.delete(version));
      if (entry.versions.size > MAX_VERSIONS) entry.versions.delete(entry.versions.keys().next().value!);
    }
    return pending;
  }

  /** The bucket and signer of a table on object storage (after any request for it), else undefined. */
  objectStore(location: string): { presigner: S3Presigner; bucket: string; root: string } | undefined {
    const entry = this.entries.get(location);
    const storage = entry?.table.storage;
    if (!entry?.presigner || !(storage instanceof S3Storage)) return undefined;
    return { presigner: entry.presigner, bucket: storage.bucket, root: storage.root };
  }

  private async entry(location: string): Promise<Entry> {
    let entry = this.entries.get(location);
    if (!entry) {
      const table = await DeltaTable.open(location).catch((error: unknown) => {
        if (error instanceof ArcuateError && error.code !== "RESOURCE_DOES_NOT_EXIST") throw error;
        throw missing();
      });
      entry = this.entries.get(location) ?? { table, versions: new Map() };
      this.entries.set(location, entry);
      if (this.entries.size > MAX_TABLES) this.entries.delete(this.entries.keys().next().value!);
    }
    // Fresh credentials for the bucket's URLs (a cached promise, fetched again near their expiry).
    if (entry.table.storage instanceof S3Storage) entry.presigner = await entry.table.storage.presigner();
    return entry;
  }
}

/**
 * The newest commit file after the one `latest` was read at: one listing that starts after it,
 * so it returns only what is new. `_last_checkpoint` and checkpoints sort around commits but only
 * follow them, so a new commit is what says the table changed.
 */
async function newestCommitAfter(storage: S3Storage, entry: Entry): Promise<string | undefined> {
  const known = typeof entry.logMtimeNs === "string" ? entry.logMtimeNs : undefined;
  const files = await storage.list("_delta_log/", known ? { startAfter: known } : {});
  let newest = known;
  for (const f of files)
    if (/^_delta_log\/\d{20}\.json$/.test(f.path) && (!newest || f.path > newest)) newest = f.path;
  return newest;
}

// The recipient learns that the table's data is unavailable, not where the provider keeps it.
function missing(): NotFoundError {
  return new NotFoundError("sharing: the table's data is not available (its Delta log is missing)");
}
