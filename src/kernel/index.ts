// The arcuate Jupyter kernel (`arcuate/kernel`): tslab with %arcuate statements. Named exports only.
//
// In a notebook on this kernel:
//  - `%arcuate <statement>` (line magic) and `%%arcuate` (cell magic) run arcuate statements;
//    `%arcuate?` or `%arcuate? <topic>` shows help; every other cell is tslab TypeScript.
//  - Results stay reachable from TypeScript through the global `arcuate`: `arcuate.last`,
//    `arcuate.results`, `arcuate.records(result?)`, `arcuate.maxRows`, `arcuate.display(records)`.
//  - `import { … } from "arcuate"` works from a notebook in any folder.
//  - The language session works in $ARCUATE_WORKDIR (default: the notebook's folder), with
//    $ARCUATE_PROFILE as its default profile and $MLFLOW_TRACKING_URI as its MLflow.
export { type InstallOptions, installKernelspec, KERNEL_NAME, kernelSpec } from "./kernelspec.js";
export { type KernelOptions, startKernel } from "./launcher.js";
export { type Cell, type CellPart, classifyCell } from "./magic.js";
export type { NotebookResults } from "./notebook-global.js";
export { type ExecutedNotebook, type RunNotebookOptions, runNotebook } from "./run-notebook.js";
