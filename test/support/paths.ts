// Where the project's peers live: the project-local virtual environment made by scripts/setup.mjs.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const VENV_BIN = join(PROJECT_ROOT, ".venv", "bin");
export const PYTHON = join(VENV_BIN, "python");
export const GOLDEN_TABLES = join(PROJECT_ROOT, "..", "shared", "fixtures", "delta-golden");

export function requireVenv(): void {
  if (!existsSync(PYTHON)) {
    throw new Error(`test peers are missing: ${PYTHON} does not exist; run 'npm run setup' (or 'npm test')`);
  }
}
