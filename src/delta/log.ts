// The transaction log on storage: naming of `_delta_log` files (PROTOCOL.md "Delta Log Entries",
// "Checkpoints"), listing them into commits and complete checkpoints, and reading their actions.
// No replay here: `replay.ts` folds the actions into a table state.
import { parquetMetadata, parquetReadObjects, parquetSchema } from "hyparquet";
import { ArcuateError, NotFoundError } from "../errors.js";
import type { Action } from "./actions.js";
import type { FileInfo, Storage } from "./storage.js";

export const LOG_DIR = "_delta_log";

export function commitPath(version: number): string {
  return `${LOG_DIR}/${String(version).padStart(20, "0")}.json`;
}

export interface CheckpointFiles {
  version: number;
  kind: "classic" | "multi-part" | "v2";
  /** The checkpoint files (all parts of a multi-part checkpoint), paths relative to the table. */
  files: FileInfo[];
}

export interface LogListing {
  /** Commit files by version. */
  commits: Map<number, FileInfo>;
  /** Complete checkpoints, oldest first. */
  checkpoints: CheckpointFiles[];
}

const COMMIT = /^(\d{20})\.json$/;
const CLASSIC = /^(\d{20})\.checkpoint\.parquet$/;
const MULTI = /^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$/;
const V2 = /^(\d{20})\.checkpoint\.[0-9a-fA-F-]{36}\.(json|parquet)$/;

/** Lists `_delta_log`. Throws NotFoundError when the table has no log at all. */
export async function listLog(storage: Storage): Promise<LogListing> {
  const entries = await storage.list(`${LOG_DIR}/`);
  const commits = new Map<number, FileInfo>();
  const classic: CheckpointFiles[] = [];
  const parts = new Map<string, { version: number; total: number; files: Map<number, FileInfo> }>();
  for (const entry of entries) {
    const name = entry.path.slice(LOG_DIR.length + 1);
    if (name.includes("/")) continue; // _sidecars/, _commits/
    let m = COMMIT.exec(name);
    if (m) {
      commits.set(Number(m[1]), entry);
      continue;
    }
    m = CLASSIC.exec(name);
    if (m) {
      classic.push({ version: Number(m[1]), kind: "classic", files: [entry] });
      continue;
    }
    m = MULTI.exec(name);
    if (m) {
      const key = `${m[1]}/${m[3]}`;
      const group = parts.get(key) ?? { version: Number(m[1]), total: Number(m[3]), files: new Map() };
      group.files.set(Number(m[2]), entry);
      parts.set(key, group);
      continue;
    }
    m = V2.exec(name);
    if (m) classic.push({ version: Number(m[1]), kind: "v2", files: [entry] });
  }
  for (const group of parts.values()) {
    // A multi-part checkpoint counts only when every part is there.
    if (group.files.size !== group.total) continue;
    const files = [...group.files.entries()].sort((a, b) => a[0] - b[0]).map(([, f]) => f);
    classic.push({ version: group.version, kind: "multi-part", files });
  }
  if (commits.size === 0 && classic.length === 0) {
    throw new NotFoundError(`delta: not a Delta table: no commits in ${LOG_DIR}/`);
  }
  // Prefer v2 over classic over multi-part at the same version: fewer files to read.
  const rank = { v2: 0, classic: 1, "multi-part": 2 } as const;
  classic.sort((a, b) => a.version - b.version || rank[b.kind] - rank[a.kind]);
  return { commits, checkpoints: classic };
}

/** Parses the JSON lines of a commit (or JSON checkpoint) file. */
export function parseActions(text: string, path: string): Action[] {
  const actions: Action[] = [];
  let lineNo = 0;
  for (const line of text.split("\n")) {
    lineNo += 1;
    if (line.trim() === "") continue;
    try {
      actions.push(JSON.parse(line) as Action);
    } catch (error) {
      throw new ArcuateError("CORRUPT_TABLE", `delta: corrupt log file ${path}, line ${lineNo}: not JSON`, {
        cause: error,
      });
    }
  }
  return actions;
}

export async function readCommit(storage: Storage, version: number): Promise<Action[]> {
  const path = commitPath(version);
  let bytes: Uint8Array;
  try {
    bytes = await storage.read(path);
  } catch (error) {
    if (error instanceof NotFoundError) {
      throw new ArcuateError("CORRUPT_TABLE", `delta: commit ${version} is missing (${path})`, {
        cause: error,
      });
    }
    throw error;
  }
  return parseActions(new TextDecoder().decode(bytes), path);
}

/** Recursively turns bigints into numbers and drops nulls, so checkpoint rows look like JSON actions. */
function normalise(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return value.map(normalise);
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) out[String(k)] = normalise(v);
    return out;
  }
  if (
    value !== null &&
    typeof value === "object" &&
    !(value instanceof Uint8Array) &&
    !(value instanceof Date)
  ) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === null || v === undefined) continue;
      out[k] = normalise(v);
    }
    return out;
  }
  return value;
}

// Map-typed fields keep their null values (a null partition value is meaningful).
function normaliseMap(value: unknown): Record<string, string | null> {
  if (value === null || value === undefined) return {};
  const out: Record<string, string | null> = {};
  const entries =
    value instanceof Map ? [...value.entries()] : Object.entries(value as Record<string, unknown>);
  for (const [k, v] of entries) out[String(k)] = v === null || v === undefined ? null : String(v);
  return out;
}

const ACTION_COLUMNS = [
  "txn",
  "add",
  "remove",
  "metaData",
  "protocol",
  "domainMetadata",
  "checkpointMetadata",
  "sidecar",
] as const;

/** Reads the actions stored in one parquet checkpoint (or sidecar) file. */
export async function readParquetActions(storage: Storage, path: string): Promise<Action[]> {
  const bytes = await storage.read(path);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let rows: Record<string, unknown>[];
  try {
    const metadata = parquetMetadata(buffer);
    const present = new Set(parquetSchema(metadata).children.map((c) => c.element.name));
    const columns = ACTION_COLUMNS.filter((c) => present.has(c));
    rows = (await parquetReadObjects({ file: buffer, metadata, columns })) as Record<string, unknown>[];
  } catch (error) {
    throw new ArcuateError("CORRUPT_TABLE", `delta: corrupt checkpoint file ${path}: ${String(error)}`, {
      cause: error,
    });
  }
  const actions: Action[] = [];
  for (const row of rows) {
    for (const column of ACTION_COLUMNS) {
      const raw = row[column];
      if (raw === null || raw === undefined) continue;
      const action = normalise(raw) as Record<string, unknown>;
      const rawRecord = raw as Record<string, unknown>;
      if (column === "add" || column === "remove") {
        if (column === "add" || rawRecord.partitionValues != null) {
          action.partitionValues = normaliseMap(rawRecord.partitionValues);
        }
      }
      if (column === "metaData") {
        action.configuration = normaliseMap(rawRecord.configuration);
        const format = (action.format ?? {}) as Record<string, unknown>;
        action.format = { provider: format.provider ?? "parquet", options: normaliseMap(format.options) };
        action.partitionColumns = (action.partitionColumns as string[] | undefined) ?? [];
      }
      actions.push({ [column]: action } as Action);
    }
  }
  return actions;
}

/** Reads every action of a checkpoint, following v2 sidecars. */
export async function readCheckpoint(storage: Storage, checkpoint: CheckpointFiles): Promise<Action[]> {
  const out: Action[] = [];
  for (const file of checkpoint.files) {
    const actions = file.path.endsWith(".json")
      ? parseActions(new TextDecoder().decode(await storage.read(file.path)), file.path)
      : await readParquetActions(storage, file.path);
    for (const action of actions) {
      if (action.sidecar) {
        const sidecarPath = `${LOG_DIR}/_sidecars/${decodeURIComponent(action.sidecar.path.split("/").pop()!)}`;
        out.push(...(await readParquetActions(storage, sidecarPath)));
      } else {
        out.push(action);
      }
    }
  }
  return out;
}

export interface LastCheckpoint {
  version: number;
  size?: number;
  parts?: number;
}

/** `_last_checkpoint`, or undefined when it is missing or unreadable (it is only a hint). */
export async function readLastCheckpoint(storage: Storage): Promise<LastCheckpoint | undefined> {
  try {
    const json = JSON.parse(new TextDecoder().decode(await storage.read(`${LOG_DIR}/_last_checkpoint`)));
    return typeof json?.version === "number" ? (json as LastCheckpoint) : undefined;
  } catch {
    return undefined;
  }
}
