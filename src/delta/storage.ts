// The storage seam of src/delta: every byte the Delta code reads or writes goes through this
// small interface, so object stores can sit behind it later. The contract is written here, once;
// an implementation that breaks it breaks the transaction log's atomicity.
import { createReadStream, constants as fsConstants } from "node:fs";
import {
  copyFile,
  link,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  unlink,
  writeFile,
} from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { ConflictError, NotFoundError } from "../errors.js";
import { isS3Location } from "./s3-location.js";
import { S3Storage } from "./s3-storage.js";

export interface FileInfo {
  /** Path relative to the storage root, "/"-separated. */
  path: string;
  size: number;
  /** Last modification, ms since the epoch. */
  modificationTime: number;
}

/**
 * Where a table's files live. Paths are relative to the storage root and "/"-separated.
 *
 * Contract:
 * - `list(prefix)` returns every file whose path starts with `prefix` (a folder prefix ending in
 *   "/" lists that folder, recursively), sorted by path; a missing folder lists as empty.
 * - `read` of a missing file throws NotFoundError.
 * - `write` replaces the whole file atomically: readers see the old or the new bytes, never a mix.
 * - `putIfAbsent` creates the file only if no file exists at `path`, atomically with respect to
 *   every other writer; if one exists it throws ConflictError and leaves it untouched. This is what
 *   makes Delta commits atomic.
 */
export interface Storage {
  list(prefix: string): Promise<FileInfo[]>;
  read(path: string, range?: { offset: number; length: number }): Promise<Uint8Array>;
  readStream(path: string, range?: { offset: number; length?: number }): NodeJS.ReadableStream;
  write(path: string, data: Uint8Array): Promise<void>;
  putIfAbsent(path: string, data: Uint8Array): Promise<void>;
  delete(path: string): Promise<void>;
  stat(path: string): Promise<FileInfo | undefined>;
}

function isErrno(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}

let tempCounter = 0;

/** The local file system under `rootDir`. */
export class LocalStorage implements Storage {
  readonly rootDir: string;

  constructor(rootDir: string) {
    this.rootDir = rootDir;
  }

  private abs(path: string): string {
    return join(this.rootDir, ...path.split("/"));
  }

  async list(prefix: string): Promise<FileInfo[]> {
    // Walk the deepest folder the prefix names, then filter by the prefix itself.
    const slash = prefix.lastIndexOf("/");
    const folder = slash < 0 ? "" : prefix.slice(0, slash);
    const out: FileInfo[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: import("node:fs").Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if (isErrno(error, "ENOENT") || isErrno(error, "ENOTDIR")) return;
        throw error;
      }
      await Promise.all(
        entries.map(async (entry) => {
          const full = join(dir, entry.name);
          const rel = relative(this.rootDir, full).split(sep).join("/");
          if (entry.isDirectory()) {
            if (rel.startsWith(prefix) || prefix.startsWith(`${rel}/`)) await walk(full);
          } else if (rel.startsWith(prefix)) {
            try {
              const s = await stat(full);
              out.push({ path: rel, size: s.size, modificationTime: Math.floor(s.mtimeMs) });
            } catch (error) {
              if (!isErrno(error, "ENOENT")) throw error; // deleted while listing
            }
          }
        }),
      );
    };
    await walk(folder === "" ? this.rootDir : this.abs(folder));
    out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return out;
  }

  async read(path: string, range?: { offset: number; length: number }): Promise<Uint8Array> {
    try {
      if (!range) return new Uint8Array(await readFile(this.abs(path)));
      const handle = await open(this.abs(path), "r");
      try {
        const buffer = new Uint8Array(range.length);
        const { bytesRead } = await handle.read(buffer, 0, range.length, range.offset);
        return buffer.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    } catch (error) {
      if (isErrno(error, "ENOENT"))
        throw new NotFoundError(`delta: file not found: ${path}`, { cause: error });
      throw error;
    }
  }

  readStream(path: string, range?: { offset: number; length?: number }): NodeJS.ReadableStream {
    const start = range?.offset ?? 0;
    const end = range?.length === undefined ? undefined : start + range.length - 1;
    return createReadStream(this.abs(path), end === undefined ? { start } : { start, end });
  }

  private tempPath(path: string): string {
    tempCounter += 1;
    const target = this.abs(path);
    return join(dirname(target), `.${process.pid}.${Date.now()}.${tempCounter}.tmp`);
  }

  async write(path: string, data: Uint8Array): Promise<void> {
    const target = this.abs(path);
    await mkdir(dirname(target), { recursive: true });
    const temp = this.tempPath(path);
    await writeFile(temp, data);
    await rename(temp, target);
  }

  async putIfAbsent(path: string, data: Uint8Array): Promise<void> {
    // Write the whole content to a temp file, then hard-link it into place: link(2) fails with
    // EEXIST if the target exists, and readers never see a partly written commit file.
    const target = this.abs(path);
    await mkdir(dirname(target), { recursive: true });
    const temp = this.tempPath(path);
    await writeFile(temp, data);
    try {
      try {
        await link(temp, target);
      } catch (error) {
        // File systems without hard links: an exclusive copy still lets exactly one writer win.
        if (!isErrno(error, "EPERM") && !isErrno(error, "ENOTSUP") && !isErrno(error, "EXDEV")) throw error;
        await copyFile(temp, target, fsConstants.COPYFILE_EXCL);
      }
    } catch (error) {
      if (isErrno(error, "EEXIST"))
        throw new ConflictError(`delta: ${path} already exists`, { cause: error });
      throw error;
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  async delete(path: string): Promise<void> {
    await rm(this.abs(path), { force: true });
  }

  async stat(path: string): Promise<FileInfo | undefined> {
    try {
      const s = await stat(this.abs(path));
      if (!s.isFile()) return undefined;
      return { path, size: s.size, modificationTime: Math.floor(s.mtimeMs) };
    } catch (error) {
      if (isErrno(error, "ENOENT") || isErrno(error, "ENOTDIR")) return undefined;
      throw error;
    }
  }
}

/**
 * The storage a table location names: `s3://bucket/prefix` and `s3a://…` an S3Storage (see
 * s3-storage.ts for endpoint and credentials), anything else a folder on the local file system.
 */
export function storageForLocation(location: string): Storage {
  return isS3Location(location) ? new S3Storage(location) : new LocalStorage(resolve(location));
}
