// The audit log's write-ahead spool. Records reach a local NDJSON segment file within a second
// (written and synced), and the segment is committed to the audit Delta table only about once a
// minute, as one file: a commit per second would make 86,400 small files and commits a day, and
// every commit replays the log. A crash loses at most the last second; the segments a dead server
// left behind are committed by the next one started on the same spool folder. Each segment's
// commit carries a Delta `txn` (its server's id, its number), so a segment committed just before
// a crash is skipped when it is recovered, never committed twice.
import { randomBytes } from "node:crypto";
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import type { AccessRecord, AuditTable } from "./audit-table.js";

const SEGMENT = /^(.+)-(\d+)\.ndjson$/;
/** A server id: host (no `_`), pid, random part. */
const OWNER = /^([^_]+)_(\d+)_([0-9a-f]{8})$/;
/** A segment is committed once it holds this many records, whatever the time. */
const SEGMENT_RECORDS = 50_000;

export class AuditSpool {
  /** This server's id in segment names and Delta txns: host, pid and a random part. */
  private readonly id = `${safeHost()}_${process.pid}_${randomBytes(4).toString("hex")}`;
  private sequence = 0;
  private handle: FileHandle | undefined;
  private inSegment = 0;
  private openedAt = 0;
  private recovered = false;

  constructor(
    private readonly table: AuditTable,
    private readonly dir: string,
    private readonly commitMs: number,
  ) {}

  /** Writes records to the current segment and syncs it; commits the segment when it is due or `commit` is set. */
  async add(records: AccessRecord[], commit: boolean): Promise<void> {
    if (!this.recovered) {
      await mkdir(this.dir, { recursive: true });
      await this.recover();
      this.recovered = true;
    }
    if (records.length > 0) {
      if (!this.handle) {
        this.handle = await open(this.segmentPath(this.sequence), "a");
        this.openedAt = Date.now();
      }
      await this.handle.appendFile(records.map((r) => `${JSON.stringify(r)}\n`).join(""));
      await this.handle.datasync();
      this.inSegment += records.length;
    }
    const due =
      this.handle && (Date.now() - this.openedAt >= this.commitMs || this.inSegment >= SEGMENT_RECORDS);
    if (this.handle && (commit || due)) await this.commitCurrent();
  }

  async close(): Promise<void> {
    if (this.handle) await this.commitCurrent();
  }

  private async commitCurrent(): Promise<void> {
    const sequence = this.sequence;
    await this.handle!.close();
    this.handle = undefined;
    this.inSegment = 0;
    this.sequence++;
    await this.commitSegment(this.id, sequence);
  }

  private segmentPath(sequence: number): string {
    return join(this.dir, `${this.id}-${sequence}.ndjson`);
  }

  private commitSegment(id: string, sequence: number, path = this.segmentPath(sequence)): Promise<void> {
    return commitFile(this.table, path, `arcuate-audit-${id}`, sequence);
  }

  /** Commits the segments of servers on this host that are no longer running. */
  private async recover(): Promise<void> {
    const host = safeHost();
    for (const name of (await readdir(this.dir)).sort()) {
      const segment = SEGMENT.exec(name);
      const owner = segment && OWNER.exec(segment[1]!);
      if (!segment || !owner || owner[1] !== host || alive(Number(owner[2]))) continue;
      // Claimed by renaming, so that two servers starting together do not both commit it (and
      // the txn makes a second commit a no-op should both get that far anyway).
      const claimed = join(this.dir, `claimed-by-${this.id}-${name}`);
      try {
        await rename(join(this.dir, name), claimed);
      } catch {
        continue;
      }
      await this.commitSegment(segment[1]!, Number(segment[2]), claimed);
    }
  }
}

/** Commits a closed segment file and removes it. A failure leaves it for the next attempt or server. */
async function commitFile(table: AuditTable, path: string, appId: string, version: number): Promise<void> {
  const text = await readFile(path, "utf8");
  const records = text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as AccessRecord];
      } catch {
        return []; // a line cut short by the crash
      }
    });
  await table.append(records, { appId, version });
  await rm(path, { force: true });
}

function safeHost(): string {
  return hostname().replace(/[^A-Za-z0-9.]/g, "-");
}

function alive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
