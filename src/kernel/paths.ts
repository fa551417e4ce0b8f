// Where the kernel's own files are, from the compiled `dist/src/kernel/*.js` or, under tsx, from
// `src/kernel/*.ts`: the package root (the folder whose package.json is arcuate's) and the
// launcher a kernelspec starts.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** The root of the arcuate package this module belongs to. */
export function packageRoot(): string {
  for (let dir = here; ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "arcuate"
    ) {
      return dir;
    }
    if (dirname(dir) === dir) throw new Error(`arcuate kernel: no package.json of arcuate above ${here}`);
  }
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string })
    .version;
}

/** The compiled launcher (`dist/src/kernel/main.js`): what a kernelspec runs with node. */
export function launcherPath(): string {
  return join(packageRoot(), "dist", "src", "kernel", "main.js");
}
