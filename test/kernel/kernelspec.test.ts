// `arcuate kernel install` writes a kernelspec that Jupyter finds and that starts this kernel by
// absolute paths, whatever the notebook's folder.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { installKernel, type KernelInstall, LAUNCHER } from "../support/jupyter.js";
import { PROJECT_ROOT } from "../support/paths.js";
import { runPythonJson } from "../support/python.js";

let install: KernelInstall;

beforeAll(async () => {
  install = await installKernel();
});

afterAll(async () => {
  await install?.dispose();
});

it("installs the arcuate kernelspec with absolute node and launcher paths", async () => {
  const spec = JSON.parse(await readFile(install.kernelJson, "utf8")) as { argv: string[]; language: string };
  expect(spec.argv).toEqual([process.execPath, LAUNCHER, "{connection_file}"]);
  expect(spec.language).toBe("typescript");
  const found = await runPythonJson<{ argv: string[]; display_name: string }>(
    `import json
from jupyter_client.kernelspec import KernelSpecManager
spec = KernelSpecManager().get_kernel_spec("arcuate")
print(json.dumps({"argv": spec.argv, "display_name": spec.display_name}))`,
    { env: install.env },
  );
  expect(found).toEqual({ argv: spec.argv, display_name: "arcuate (TypeScript)" });
});

it("keeps arcuate and arcuate/kernel loadable by require() (no top-level await in their module graphs)", async () => {
  // tslab compiles a cell's imports to require(); Node 20 cannot require() an ES module graph
  // with top-level await (ERR_REQUIRE_ASYNC_MODULE).
  const script = `const r = require("node:module").createRequire(${JSON.stringify(`${PROJECT_ROOT}/package.json`)});
console.log(JSON.stringify([typeof r("arcuate").ArcuateError, typeof r("arcuate/kernel").startKernel]));`;
  const { stdout } = await promisify(execFile)(process.execPath, ["-e", script]);
  expect(JSON.parse(stdout)).toEqual(["function", "function"]);
});
