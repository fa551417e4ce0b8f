// tslab's internals, deep-imported (tslab has no plugin hook; DESIGN.md, Kernel). Loaded through
// `require` on purpose: the launcher must share tslab's CommonJS module instances with the
// `require("tslab")` a cell makes (so `tslab.display` writes through the same
// `lastWriteDisplayData`), and it must be able to assign that exported variable.
import { createRequire } from "node:module";
import type * as ConverterModule from "tslab/dist/converter.js";
import type * as ExecutorModule from "tslab/dist/executor.js";
import type * as JupyterModule from "tslab/dist/jupyter.js";

const require = createRequire(import.meta.url);

export type { ConverterSet, Executor } from "tslab/dist/executor.js";
export type { JupyterHandlerImpl, ZmqServer } from "tslab/dist/jupyter.js";

export const converter = require("tslab/dist/converter.js") as typeof ConverterModule;
export const executor = require("tslab/dist/executor.js") as typeof ExecutorModule;
/** Mutable: `lastWriteDisplayData` is assigned before each cell runs. */
export const jupyter = require("tslab/dist/jupyter.js") as typeof JupyterModule;

/** The file-system half of the TypeScript instance tslab compiles cells with (tslab bundles its own). */
export interface TsSystem {
  sys: Record<string, unknown>;
  version: string;
}

/** The TypeScript instance tslab's converter uses: its own copy, resolved from tslab's folder. */
export function tslabTypeScript(): TsSystem {
  const fromConverter = createRequire(require.resolve("tslab/dist/converter.js"));
  return fromConverter("@tslab/typescript-for-tslab") as TsSystem;
}
