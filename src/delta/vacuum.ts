// VACUUM: deletes the data files of a table that no version inside the retention window uses.
//
// A version is inside the window when it was the table's current version at some moment of it:
// the version current at `now - retention` and every later one. Their files are kept (adds,
// deletion vector files, the files their commits add or remove), and so is every file modified
// inside the window, since a writer may have written it and not committed yet. Files under a
// folder or with a name starting with `_` or `.` (the log, `_change_data`, hidden files) are never
// touched. The retention is the table's `delta.deletedFileRetentionDuration` (one week unless set)
// and can be lowered, never below MIN_RETENTION_MS: a file URL the sharing server pre-signed for a
// version current when it signed (one hour by default, plus an hour that a page or refresh token
// pins a snapshot) then points at a file that is still there when the URL is used. Versions
// before the window are no longer readable afterwards (time travel and changes to them fail).
import { ArcuateError, NotFoundError } from "../errors.js";
import type { Action, DeletionVectorDescriptor } from "./actions.js";
import { decodeZ85 } from "./deletion-vectors.js";
import { listLog, readCommit } from "./log.js";
import { canonicalPath, earliestVersionOf, latestVersionOf, replay } from "./replay.js";
import { deletedFileRetentionMs } from "./retention.js";
import type { DeltaTable } from "./table.js";

/** Two hours: the server's default URL lifetime plus the time a page or refresh token pins a version. */
export const MIN_RETENTION_MS = 2 * 3_600_000;

export interface VacuumOptions {
  /** Keep what versions current within this long need. Default: the table's retention (one week). */
  retentionMs?: number;
  /** List what would be deleted, delete nothing. */
  dryRun?: boolean;
  /** The moment the window ends (ms since the epoch). Default: now. */
  now?: number;
}

export interface VacuumResult {
  /** Paths relative to the table, sorted; deleted, or to be deleted on a dry run. */
  files: string[];
  bytes: number;
  /** The oldest version still readable afterwards. */
  oldestVersionKept: number;
  retentionMs: number;
  dryRun: boolean;
}

export async function vacuum(table: DeltaTable, options: VacuumOptions = {}): Promise<VacuumResult> {
  const now = options.now ?? Date.now();
  const listing = await listLog(table.storage);
  const latest = await replay(table.storage, listing);
  const retentionMs = options.retentionMs ?? deletedFileRetentionMs(latest.metadata);
  if (!Number.isFinite(retentionMs) || retentionMs < MIN_RETENTION_MS) {
    throw new ArcuateError(
      "INVALID_PARAMETER_VALUE",
      `delta: a VACUUM retention of ${formatHours(retentionMs)} is too short: file URLs handed out in the last ${formatHours(MIN_RETENTION_MS)} may still need the files (the least is ${formatHours(MIN_RETENTION_MS)})`,
    );
  }
  const cutoff = now - retentionMs;
  let oldest: number;
  try {
    oldest = await table.versionAtTimestamp(cutoff, "atOrBefore", listing);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    oldest = earliestVersionOf(listing); // every version still in the log is inside the window
  }
  const keep = new Set<string>();
  const refer = (path: string, dv?: DeletionVectorDescriptor | null) => {
    keep.add(relativePath(path, table.location));
    const dvPath = dv ? deletionVectorPath(dv) : undefined;
    if (dvPath !== undefined) keep.add(relativePath(dvPath, table.location));
  };
  const start = await replay(table.storage, listing, oldest);
  for (const add of start.files) refer(add.path, add.deletionVector);
  for (let v = oldest + 1; v <= latestVersionOf(listing); v++) {
    for (const action of (await readCommit(table.storage, v)) as Action[]) {
      if (action.add) refer(action.add.path, action.add.deletionVector);
      else if (action.remove) refer(action.remove.path, action.remove.deletionVector);
      else if (action.cdc) refer(action.cdc.path);
    }
  }
  const candidates = (await table.storage.list("")).filter(
    (f) =>
      !f.path.split("/").some((segment) => segment.startsWith("_") || segment.startsWith(".")) &&
      f.modificationTime <= cutoff &&
      !keep.has(f.path),
  );
  if (!options.dryRun) {
    for (const file of candidates) await table.storage.delete(file.path);
  }
  return {
    files: candidates.map((f) => f.path),
    bytes: candidates.reduce((n, f) => n + f.size, 0),
    oldestVersionKept: oldest,
    retentionMs,
    dryRun: options.dryRun === true,
  };
}

/** A log path (percent-encoded, relative) as a storage path; an absolute one is refused, not guessed. */
function relativePath(path: string, location: string): string {
  const p = canonicalPath(path);
  if (p.startsWith("/") || /^[a-z][a-z0-9+.-]*:/i.test(p)) {
    throw new ArcuateError(
      "UNSUPPORTED_FEATURE",
      `delta: VACUUM of ${location} refused: the log names a file by an absolute path (${p.slice(0, 120)}), which arcuate does not vacuum`,
    );
  }
  return p;
}

/** Where a deletion vector's file is, relative to the table; undefined when it is inline. */
function deletionVectorPath(dv: DeletionVectorDescriptor): string | undefined {
  if (dv.storageType === "i") return undefined;
  if (dv.storageType === "p") return dv.pathOrInlineDv;
  const encoded = dv.pathOrInlineDv;
  const prefix = encoded.slice(0, encoded.length - 20);
  const hex = Buffer.from(decodeZ85(encoded.slice(-20))).toString("hex");
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  return `${prefix ? `${prefix}/` : ""}deletion_vector_${uuid}.bin`;
}

function formatHours(ms: number): string {
  const hours = ms / 3_600_000;
  return `${Number.isInteger(hours) ? hours : hours.toFixed(2)} hours`;
}
