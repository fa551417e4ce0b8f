// The catalog kept in a working folder, the embedded default:
//
//   catalog.json        the state (CatalogState), replaced atomically on every change
//   catalog.lock        held while a change is being made
//   secret.json         the pepper for token hashes and the key for signed URLs (mode 0600)
//   profiles/<r>.share  the profile file written when recipient <r> is created or rotated
//
// Reading stats catalog.json and re-reads it whenever it was replaced, so a server picks up
// changes made by other processes on the same machine at once, without a restart.
import type { BigIntStats } from "node:fs";
import { mkdir, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { ArcuateError } from "../../errors.js";
import { withLock, writeFileAtomic } from "./files.js";
import { loadSecrets, type Secrets } from "./secrets.js";
import { type CatalogState, type CatalogView, emptyState } from "./state.js";
import type { CatalogStore, Loaded } from "./store.js";
import { StateView } from "./view.js";

export class FolderStore implements CatalogStore {
  private cached?: { ino: bigint; mtimeNs: bigint; loaded: Loaded };
  private statProbe?: { generation: number; pending: Promise<BigIntStats | undefined> };
  private generation = 0;

  private constructor(
    private readonly root: string,
    readonly dir: string,
    readonly secrets: Secrets,
  ) {}

  /** Opens (creating when needed) the catalog kept in `folder`; profiles go under `workDir` if given. */
  static async open(folder: string, workDir?: string): Promise<FolderStore> {
    const root = resolve(folder);
    const dir = workDir === undefined ? root : resolve(workDir);
    await mkdir(join(root, "profiles"), { recursive: true, mode: 0o700 });
    return new FolderStore(root, dir, await loadSecrets(join(root, "secret.json")));
  }

  get statePath(): string {
    return join(this.root, "catalog.json");
  }

  async view(): Promise<CatalogView> {
    return (await this.load()).view;
  }

  async check(): Promise<void> {
    await stat(this.root);
  }

  async close(): Promise<void> {}

  async load(): Promise<Loaded> {
    // Concurrent requests share one stat; a stat that began before this process's last change is
    // not shared, so a change made here is seen by every view asked for after it.
    let probe = this.statProbe;
    if (!probe || probe.generation !== this.generation) {
      const pending = stat(this.statePath, { bigint: true }).catch(() => undefined);
      probe = { generation: this.generation, pending };
      this.statProbe = probe;
      const current = probe;
      void pending.finally(() => {
        if (this.statProbe === current) this.statProbe = undefined;
      });
    }
    const info = await probe.pending;
    if (!info) {
      const state = emptyState();
      return { state, view: new StateView(state, this.secrets.pepper) };
    }
    // Every write replaces the file by rename, so a new inode means a new state.
    if (this.cached && this.cached.ino === info.ino && this.cached.mtimeNs === info.mtimeNs)
      return this.cached.loaded;
    const state = parseState(await readFile(this.statePath, "utf8"), this.statePath);
    const loaded = { state, view: new StateView(state, this.secrets.pepper) };
    this.cached = { ino: info.ino, mtimeNs: info.mtimeNs, loaded };
    return loaded;
  }

  /** Read-modify-write of the state under the lock; `change` sees the freshest state. */
  async update<T>(change: (state: CatalogState) => T): Promise<T> {
    return withLock(join(this.root, "catalog.lock"), async () => {
      const text = await readFile(this.statePath, "utf8").catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return undefined;
        throw error;
      });
      const state = text === undefined ? emptyState() : parseState(text, this.statePath);
      const result = change(state);
      await writeFileAtomic(this.statePath, `${JSON.stringify(state, null, 2)}\n`, 0o600);
      this.generation++;
      return result;
    });
  }
}

/** The state in `text` (catalog.json, or a database row), checked to be an arcuate catalog. */
export function parseState(text: string, path: string): CatalogState {
  let state: CatalogState;
  try {
    state = JSON.parse(text) as CatalogState;
  } catch (error) {
    throw new ArcuateError("CORRUPT_TABLE", `catalog: ${path} is not valid JSON`, { cause: error });
  }
  checkState(state, path);
  return state;
}

export function checkState(state: CatalogState, path: string): void {
  // Version 1 is version 2 without recipient limits: read as 2, written back as 2.
  if ((state.version as number) === 1) state.version = 2;
  if (
    state.version !== 2 ||
    !Array.isArray(state.shares) ||
    !Array.isArray(state.recipients) ||
    !Array.isArray(state.grants)
  ) {
    throw new ArcuateError(
      "CORRUPT_TABLE",
      `catalog: ${path} is not an arcuate catalog (version 1 or 2; a newer arcuate may have written it)`,
    );
  }
}
