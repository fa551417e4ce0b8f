// A Delta table at a location: opens the log, hands out snapshots (latest, at a version, at a
// timestamp), history, raw commits for change readers, and writes (writer.ts).
import type * as arrow from "apache-arrow";
import { ArcuateError, NotFoundError } from "../errors.js";
import type { Action, CommitInfoAction } from "./actions.js";
import { changeBatches, readChanges } from "./cdf.js";
import { writeCheckpoint } from "./checkpoint.js";
import { type LogListing, listLog, readCommit } from "./log.js";
import {
  commitTimestampFromActions,
  earliestVersionOf,
  latestVersionOf,
  mapLimited,
  replay,
} from "./replay.js";
import { Snapshot } from "./snapshot.js";
import { type Storage, storageForLocation } from "./storage.js";
import { type VacuumOptions, type VacuumResult, vacuum } from "./vacuum.js";
import { type CreateTableOptions, createTable, type WriteOptions, writeTable } from "./writer.js";
export interface OpenOptions {
  /** Where the table's files are; its root is the table root. Default: by the location's scheme (storageForLocation). */
  storage?: Storage;
}

export interface CommitSummary {
  version: number;
  /** Commit timestamp (ms). */
  timestamp: number;
  operation: string | undefined;
  operationParameters: Record<string, unknown> | undefined;
  commitInfo: CommitInfoAction | undefined;
}

export interface Commit {
  version: number;
  timestamp: number;
  actions: Action[];
}

export type TimestampInput = Date | string | number;

export function toMillis(ts: TimestampInput): number {
  const ms = ts instanceof Date ? ts.getTime() : typeof ts === "number" ? ts : Date.parse(ts);
  if (!Number.isFinite(ms))
    throw new ArcuateError("INVALID_PARAMETER_VALUE", `delta: invalid timestamp ${String(ts)}`);
  return ms;
}

export class DeltaTable {
  readonly location: string;
  readonly storage: Storage;

  protected constructor(location: string, storage: Storage) {
    this.location = location;
    this.storage = storage;
  }

  /** Opens an existing table. NotFoundError when there is no `_delta_log` with commits. */
  static async open(location: string, options: OpenOptions = {}): Promise<DeltaTable> {
    const storage = options.storage ?? storageForLocation(location);
    const table = new DeltaTable(location, storage);
    await table.listing();
    return table;
  }

  /** Wraps a location without checking that a table exists there (used by create). */
  static at(location: string, options: OpenOptions = {}): DeltaTable {
    return new DeltaTable(location, options.storage ?? storageForLocation(location));
  }

  listing(): Promise<LogListing> {
    return listLog(this.storage).catch((error: unknown) => {
      if (error instanceof NotFoundError) {
        throw new NotFoundError(`delta: not a Delta table (no _delta_log commits): ${this.location}`, {
          cause: error,
        });
      }
      throw error;
    });
  }

  async latestVersion(): Promise<number> {
    return latestVersionOf(await this.listing());
  }

  /** The table at a version, at a timestamp (the latest commit at or before it), or the latest. */
  async snapshot(at: { version?: number; timestamp?: TimestampInput } = {}): Promise<Snapshot> {
    const listing = await this.listing();
    let version = at.version;
    if (version === undefined && at.timestamp !== undefined) {
      version = await this.versionAtTimestamp(at.timestamp, "atOrBefore", listing);
    }
    return new Snapshot(this.storage, await replay(this.storage, listing, version));
  }

  /** Commit timestamps of every version that still has its commit file. */
  private async commitTimestamps(
    listing: LogListing,
  ): Promise<Array<{ version: number; timestamp: number }>> {
    const versions = [...listing.commits.keys()].sort((a, b) => a - b);
    const out: Array<{ version: number; timestamp: number }> = [];
    // In-commit timestamps live inside the commit; other tables use the file time, as delta-rs does.
    const latest = await this.snapshotMetadataIct(listing);
    const times = await mapLimited(versions, 16, async (v) => {
      const fileTime = listing.commits.get(v)!.modificationTime;
      if (!latest) return fileTime;
      return commitTimestampFromActions(await readCommit(this.storage, v), fileTime);
    });
    versions.forEach((version, i) => {
      out.push({ version, timestamp: times[i]! });
    });
    return out;
  }

  private async snapshotMetadataIct(listing: LogListing): Promise<boolean> {
    const state = await replay(this.storage, listing);
    return state.metadata.configuration?.["delta.enableInCommitTimestamps"] === "true";
  }

  async versionAtTimestamp(
    ts: TimestampInput,
    mode: "atOrBefore" | "atOrAfter",
    listing?: LogListing,
  ): Promise<number> {
    const wanted = toMillis(ts);
    const times = await this.commitTimestamps(listing ?? (await this.listing()));
    if (mode === "atOrBefore") {
      let found: number | undefined;
      for (const t of times) if (t.timestamp <= wanted) found = t.version;
      if (found === undefined) {
        throw new NotFoundError(
          `delta: no version at or before ${new Date(wanted).toISOString()} (the earliest commit is at ${new Date(times[0]?.timestamp ?? 0).toISOString()})`,
        );
      }
      return found;
    }
    const found = times.find((t) => t.timestamp >= wanted);
    if (!found) {
      throw new NotFoundError(`delta: no version at or after ${new Date(wanted).toISOString()}`);
    }
    return found.version;
  }

  /** Raw actions of each commit in [fromVersion, toVersion] (default: to the latest). */
  async commits(fromVersion: number, toVersion?: number): Promise<Commit[]> {
    const listing = await this.listing();
    const latest = latestVersionOf(listing);
    const to = toVersion ?? latest;
    if (fromVersion < 0 || to < fromVersion) {
      throw new ArcuateError("INVALID_PARAMETER_VALUE", `delta: invalid version range ${fromVersion}..${to}`);
    }
    if (to > latest) throw new NotFoundError(`delta: version ${to} does not exist (latest is ${latest})`);
    const versions: number[] = [];
    for (let v = fromVersion; v <= to; v += 1) {
      if (!listing.commits.has(v)) {
        throw new NotFoundError(
          `delta: commit ${v} is not available (the earliest available version is ${earliestVersionOf(listing)})`,
        );
      }
      versions.push(v);
    }
    return mapLimited(versions, 16, async (version) => {
      const actions = await readCommit(this.storage, version);
      const timestamp = commitTimestampFromActions(actions, listing.commits.get(version)!.modificationTime);
      return { version, timestamp, actions };
    });
  }

  /** One summary per available commit, newest first (as delta-rs and Spark list history). */
  async history(): Promise<CommitSummary[]> {
    const listing = await this.listing();
    const versions = [...listing.commits.keys()].sort((a, b) => b - a);
    return mapLimited(versions, 16, async (version) => {
      const actions = await readCommit(this.storage, version);
      const commitInfo = actions.find((a) => a.commitInfo)?.commitInfo;
      return {
        version,
        timestamp: commitTimestampFromActions(actions, listing.commits.get(version)!.modificationTime),
        operation: commitInfo?.operation,
        operationParameters: commitInfo?.operationParameters,
        commitInfo,
      };
    });
  }

  /** Creates a table (commits version 0). ConflictError when one exists at the location already. */
  static async create(location: string, options: CreateTableOptions & OpenOptions): Promise<DeltaTable> {
    const table = DeltaTable.at(location, options);
    await createTable(table.storage, options);
    return table;
  }

  /** Appends or overwrites rows; returns the new version. Retries when another writer commits first. */
  write(data: arrow.Table | AsyncIterable<arrow.RecordBatch>, options: WriteOptions): Promise<number> {
    return writeTable(this.storage, data, options);
  }

  /** Change data feed rows of commits [fromVersion, toVersion] (default: to the latest). */
  changes(fromVersion: number, toVersion?: number): Promise<arrow.Table> {
    return readChanges(this.storage, fromVersion, toVersion);
  }

  /** The same, as a stream of record batches, one data file at a time. */
  changeBatches(fromVersion: number, toVersion?: number): AsyncIterable<arrow.RecordBatch> {
    return changeBatches(this.storage, fromVersion, toVersion);
  }

  /** Writes a checkpoint of `version` (default: the latest) and updates `_last_checkpoint`. */
  async checkpoint(version?: number): Promise<void> {
    await writeCheckpoint(this.storage, version ?? (await this.latestVersion()));
  }

  /** Deletes the files no version inside the retention window needs (vacuum.ts). */
  vacuum(options: VacuumOptions = {}): Promise<VacuumResult> {
    return vacuum(this, options);
  }

  /** Convenience: the latest snapshot's rows. */
  async readArrow(
    options: { version?: number; limit?: number; columns?: string[] } = {},
  ): Promise<arrow.Table> {
    const snap = await this.snapshot(options.version === undefined ? {} : { version: options.version });
    return snap.readArrow(options);
  }
}
