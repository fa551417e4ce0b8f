// Log replay (PROTOCOL.md "Action Reconciliation"): from the newest complete checkpoint at or
// before the wanted version, through the contiguous commits after it, to the table state at that
// version: protocol, metadata, active files. Pure over the listing and the storage reads.
import { ArcuateError, NotFoundError } from "../errors.js";
import type {
  Action,
  AddAction,
  MetadataAction,
  ProtocolAction,
  RemoveAction,
  TxnAction,
} from "./actions.js";
import { type CheckpointFiles, type LogListing, readCheckpoint, readCommit } from "./log.js";
import type { Storage } from "./storage.js";

export interface TableState {
  version: number;
  /** Commit timestamp in ms: in-commit timestamp when the table has them, else the commit file's time. */
  timestamp: number;
  protocol: ProtocolAction;
  metadata: MetadataAction;
  files: AddAction[];
  /** Latest `txn` per application id (idempotent writers). */
  txns: TxnAction[];
  /** `remove` actions of files not added again since: kept by checkpoints while retained, read by VACUUM. */
  tombstones: RemoveAction[];
}

/** The canonical form of a file path in the log, for matching `remove` against `add`. */
export function canonicalPath(path: string): string {
  // The common case (a plain relative path) allocates nothing: servers call this once per file per answer.
  if (!path.includes("%") && !path.startsWith("file:")) return path;
  let p = path.replace(/^file:(?:\/\/(?=\/))?/, "");
  try {
    p = decodeURIComponent(p);
  } catch {
    // not percent-encoded after all; keep it as written
  }
  return p;
}

function fileKey(path: string, dv: AddAction["deletionVector"]): string {
  const dvId = dv
    ? `${dv.storageType}${dv.pathOrInlineDv}${dv.offset === undefined ? "" : `@${dv.offset}`}`
    : "";
  return `${canonicalPath(path)}\u0000${dvId}`;
}

export function latestVersionOf(listing: LogListing): number {
  let latest = -1;
  for (const v of listing.commits.keys()) latest = Math.max(latest, v);
  for (const c of listing.checkpoints) latest = Math.max(latest, c.version);
  return latest;
}

/** The oldest version the log can reconstruct (0, or the oldest checkpoint when old commits are gone). */
export function earliestVersionOf(listing: LogListing): number {
  if (listing.commits.has(0)) return 0;
  const oldest = listing.checkpoints[0]?.version;
  if (oldest !== undefined) return oldest;
  return Math.min(...listing.commits.keys());
}

export function commitTimestampFromActions(actions: Action[], fileTime: number): number {
  for (const action of actions) {
    const ict = action.commitInfo?.inCommitTimestamp;
    if (typeof ict === "number") return ict;
  }
  return fileTime;
}

/** Replays the log to `version` (default: the latest). */
export async function replay(storage: Storage, listing: LogListing, version?: number): Promise<TableState> {
  const latest = latestVersionOf(listing);
  const target = version ?? latest;
  if (!Number.isInteger(target) || target < 0) {
    throw new ArcuateError("INVALID_PARAMETER_VALUE", `delta: invalid version ${target}`);
  }
  if (target > latest)
    throw new NotFoundError(`delta: version ${target} does not exist (latest is ${latest})`);
  let checkpoint: CheckpointFiles | undefined;
  for (const c of listing.checkpoints) if (c.version <= target) checkpoint = c;
  const start = checkpoint ? checkpoint.version + 1 : 0;
  if (!checkpoint && !listing.commits.has(0)) {
    throw new NotFoundError(
      `delta: version ${target} cannot be reconstructed: no checkpoint at or before it and commit 0 is gone`,
    );
  }
  for (let v = start; v <= target; v += 1) {
    if (!listing.commits.has(v)) {
      throw new ArcuateError(
        "CORRUPT_TABLE",
        `delta: versions are not contiguous: commit ${v} is missing (needed for version ${target})`,
      );
    }
  }
  let protocol: ProtocolAction | undefined;
  let metadata: MetadataAction | undefined;
  const files = new Map<string, AddAction>();
  const txns = new Map<string, TxnAction>();
  const tombstones = new Map<string, RemoveAction>();
  const apply = (actions: Action[]): void => {
    for (const action of actions) {
      if (action.add) {
        const key = fileKey(action.add.path, action.add.deletionVector);
        files.set(key, action.add);
        tombstones.delete(key);
      } else if (action.remove) {
        const key = fileKey(action.remove.path, action.remove.deletionVector);
        files.delete(key);
        tombstones.set(key, action.remove);
      } else if (action.protocol) protocol = action.protocol;
      else if (action.metaData) metadata = action.metaData;
      else if (action.txn) txns.set(action.txn.appId, action.txn);
    }
  };
  let timestamp = 0;
  if (checkpoint) {
    apply(await readCheckpoint(storage, checkpoint));
    timestamp = checkpoint.files[0]!.modificationTime;
    const commitFile = listing.commits.get(checkpoint.version);
    if (commitFile) timestamp = commitFile.modificationTime;
  }
  // Commits are read concurrently but applied in order.
  const versions: number[] = [];
  for (let v = start; v <= target; v += 1) versions.push(v);
  const commits = await mapLimited(versions, 16, (v) => readCommit(storage, v));
  commits.forEach((actions, i) => {
    apply(actions);
    if (i === commits.length - 1) {
      timestamp = commitTimestampFromActions(actions, listing.commits.get(versions[i]!)!.modificationTime);
    }
  });
  if (!protocol)
    throw new ArcuateError("CORRUPT_TABLE", `delta: no protocol action found at version ${target}`);
  if (!metadata)
    throw new ArcuateError("CORRUPT_TABLE", `delta: no metaData action found at version ${target}`);
  if (typeof metadata.schemaString !== "string") {
    throw new ArcuateError("CORRUPT_TABLE", `delta: metaData at version ${target} has no schemaString`);
  }
  return {
    version: target,
    timestamp,
    protocol,
    metadata,
    files: [...files.values()],
    txns: [...txns.values()],
    tombstones: [...tombstones.values()],
  };
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping the order of results. */
export async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next;
      next += 1;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
