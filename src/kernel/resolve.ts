// Makes `import { … } from "arcuate"` work in a cell of a notebook in any folder, without a
// node_modules/arcuate next to the notebook.
//
// A cell is resolved twice: tslab type-checks it with its own TypeScript (Node10 module
// resolution, from the notebook's folder) and then runs it with a `require` made for the
// notebook's folder. The kernel answers both with its own copy of arcuate, so a cell always
// gets the same module instances as the kernel (one `ArcuateError` class, one set of results):
//  - types: the TypeScript file system sees `<notebook folder>/node_modules/arcuate/…` as the
//    package's own folder (the trick tslab itself uses for `import … from "tslab"`);
//  - run time: `require("arcuate")` and `require("arcuate/…")` resolve as the package's
//    self-reference (its `exports` map), whoever asks.
import Module from "node:module";
import { isAbsolute, join, relative } from "node:path";
import { tslabTypeScript } from "./tslab.js";

const PACKAGE = "arcuate";

interface ModuleInternals {
  _resolveFilename(request: string, parent: unknown, isMain: boolean, options?: unknown): string;
  _nodeModulePaths(dir: string): string[];
}

/** Registers both hooks. Call once, before tslab's converter is created. */
export function makePackageImportable(packageRoot: string, notebookDir: string): void {
  forwardTypeScriptFileSystem(packageRoot, notebookDir);
  resolveAtRunTime(packageRoot);
}

function forwardTypeScriptFileSystem(packageRoot: string, notebookDir: string): void {
  const { sys } = tslabTypeScript();
  const nodeModules = join(notebookDir, "node_modules");
  const linked = join(nodeModules, PACKAGE);
  const forward = (path: string): string => {
    const rel = relative(linked, path);
    return rel.startsWith("..") || isAbsolute(rel) ? path : join(packageRoot, rel);
  };
  // TypeScript binds some of these when tslab creates its compiler host, so they are replaced
  // on the shared `sys` object itself, before the converter exists.
  for (const name of [
    "fileExists",
    "readFile",
    "realpath",
    "getDirectories",
    "readDirectory",
    "getModifiedTime",
  ]) {
    const original = sys[name];
    if (typeof original !== "function") continue;
    sys[name] = (path: string, ...rest: unknown[]) => original.call(sys, forward(path), ...rest);
  }
  const directoryExists = sys["directoryExists"];
  if (typeof directoryExists === "function") {
    sys["directoryExists"] = (path: string) =>
      path === nodeModules || Boolean(directoryExists.call(sys, forward(path)));
  }
}

function resolveAtRunTime(packageRoot: string): void {
  const internals = Module as unknown as ModuleInternals;
  const manifest = join(packageRoot, "package.json");
  // A parent module inside the package: Node resolves the package's name as a self-reference.
  const self = new Module(manifest);
  self.filename = manifest;
  self.paths = internals._nodeModulePaths(packageRoot);
  const original = internals._resolveFilename;
  internals._resolveFilename = function (request, parent, isMain, options) {
    if (request === PACKAGE || request.startsWith(`${PACKAGE}/`)) {
      return original.call(this, request, self, false, undefined);
    }
    return original.call(this, request, parent, isMain, options);
  };
}
