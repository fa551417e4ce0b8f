// An in-memory Storage, for tests and for tables that never touch disk. Keeps the same contract
// as LocalStorage (sorted listing, atomic writes, putIfAbsent fails with ConflictError).
import { Readable } from "node:stream";
import { ConflictError, NotFoundError } from "../errors.js";
import type { FileInfo, Storage } from "./storage.js";

export class MemoryStorage implements Storage {
  private readonly files = new Map<string, { data: Uint8Array; modificationTime: number }>();

  async list(prefix: string): Promise<FileInfo[]> {
    return [...this.files.entries()]
      .filter(([path]) => path.startsWith(prefix))
      .map(([path, f]) => ({ path, size: f.data.length, modificationTime: f.modificationTime }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  private get(path: string): Uint8Array {
    const file = this.files.get(path);
    if (!file) throw new NotFoundError(`delta: file not found: ${path}`);
    return file.data;
  }

  async read(path: string, range?: { offset: number; length: number }): Promise<Uint8Array> {
    const data = this.get(path);
    return range ? data.slice(range.offset, range.offset + range.length) : data.slice();
  }

  readStream(path: string, range?: { offset: number; length?: number }): NodeJS.ReadableStream {
    const data = this.get(path);
    const start = range?.offset ?? 0;
    const end = range?.length === undefined ? data.length : start + range.length;
    return Readable.from([Buffer.from(data.subarray(start, end))]);
  }

  async write(path: string, data: Uint8Array): Promise<void> {
    this.files.set(path, { data: data.slice(), modificationTime: Date.now() });
  }

  async putIfAbsent(path: string, data: Uint8Array): Promise<void> {
    // Check and set with no await between them: atomic on the one JS thread.
    if (this.files.has(path)) throw new ConflictError(`delta: ${path} already exists`);
    this.files.set(path, { data: data.slice(), modificationTime: Date.now() });
  }

  async delete(path: string): Promise<void> {
    this.files.delete(path);
  }

  async stat(path: string): Promise<FileInfo | undefined> {
    const file = this.files.get(path);
    return file ? { path, size: file.data.length, modificationTime: file.modificationTime } : undefined;
  }
}
