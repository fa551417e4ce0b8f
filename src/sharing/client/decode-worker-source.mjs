// Entry of a decode worker when arcuate runs from its TypeScript sources (tsx, vitest): registers
// tsx's loader in the worker, then loads decode-worker.ts. Passing `--import tsx` in the worker's
// execArgv does not do it (Node 20: the worker fails with "Unknown file extension .ts", and the
// pool silently fell back to the main thread). Built code (dist) starts decode-worker.js directly.
import { register } from "tsx/esm/api";

register();
await import("./decode-worker.ts");
