// Where a catalog's state is kept. A store loads the current state (with the server's view of
// it, cached while the state is unchanged) and applies a change to the freshest state atomically:
// no change made through another store of the same catalog is lost. The rules of the catalog
// (names, tokens, grants) live in stored.ts, the same for every store.
import type { Secrets } from "./secrets.js";
import type { CatalogState, CatalogView } from "./state.js";

export interface Loaded {
  state: CatalogState;
  view: CatalogView;
}

export interface CatalogStore {
  /** The folder that holds `profiles/`. */
  readonly dir: string;
  /** Where the state is, for messages (never with a password). */
  readonly statePath: string;
  readonly secrets: Secrets;
  /** The current state; a change made anywhere before this call is in it. */
  load(): Promise<Loaded>;
  /** The state as the server sees it: current within the store's bound (see its comment). */
  view(): Promise<CatalogView>;
  /** Runs `change` on the freshest state and stores the result, all or nothing. */
  update<T>(change: (state: CatalogState) => T): Promise<T>;
  check(): Promise<void>;
  close(): Promise<void>;
}
