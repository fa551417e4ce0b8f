// arcuate's working folder: the one place every command, the kernel and the API keep the
// provider's catalog (`catalog.json`, recipients' profiles) and the exported tables (`tables/`).
// One flag (`--workdir`), one variable ($ARCUATE_WORKDIR), one default (the current folder; in the
// kernel, the notebook's folder, which is the kernel's current folder), so that `arcuate run`
// followed by `arcuate serve` in the same folder serves what `run` created.
import { resolve } from "node:path";
import { Option } from "commander";

export const WORKDIR_VARIABLE = "ARCUATE_WORKDIR";

// Variables of earlier versions, which named a second folder for the server's catalog.
const RETIRED_VARIABLES = ["ARCUATE_SHARING_DIR", "ARCUATE_HOME"] as const;

/**
 * The working folder as an absolute path: `flag`, else $ARCUATE_WORKDIR, else `fallback` (the
 * current folder unless a caller, like the kernel, has a better one).
 */
export function resolveWorkDir(flag?: string, fallback: string = process.cwd()): string {
  return resolve(flag ?? process.env[WORKDIR_VARIABLE] ?? fallback);
}

/** A warning for variables that no longer choose a folder, or undefined when none is set. */
export function retiredVariablesWarning(): string | undefined {
  const set = RETIRED_VARIABLES.filter((name) => process.env[name] !== undefined);
  if (set.length === 0) return undefined;
  return `arcuate: ${set.map((name) => `$${name}`).join(" and ")} no longer choose a folder: every command works in $${WORKDIR_VARIABLE} (or --workdir), else the current folder`;
}

/** The `--workdir` option, the same on every command that touches the provider's state. */
export function workDirOption(): Option {
  return new Option("--workdir <folder>", "arcuate's working folder").default(
    undefined,
    `$${WORKDIR_VARIABLE}, else the current folder`,
  );
}
