// Entry of the audit worker when arcuate runs from its TypeScript sources (tsx, vitest): registers
// tsx's loader in the worker, then loads audit-worker.ts (as decode-worker-source.mjs does).
import { register } from "tsx/esm/api";

register();
await import("./audit-worker.ts");
