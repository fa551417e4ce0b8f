// The MLflow 2.x test peer: MLflow 2.22 in its own virtual environment `.venv-mlflow2` (it cannot
// share .venv with MLflow 3), pinned by python/mlflow2-requirements.txt and -constraints.txt.
// Idempotent: a stamp (hash of both files) inside the venv makes a second run instant.
// Plain Node built-ins only: this runs before node_modules exists.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const REQUIREMENTS = ["python/mlflow2-requirements.txt", "python/mlflow2-constraints.txt"];

function run(root, command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit" });
  if (result.status !== 0) {
    throw new Error(`setup: '${command} ${args.join(" ")}' failed with exit code ${result.status}`);
  }
}

/** Installs MLflow 2.22 into `<root>/.venv-mlflow2` with the Python that made `<root>/.venv`. */
export function mlflow2(root, log = (message) => process.stderr.write(`setup: ${message}\n`)) {
  const venv = join(root, ".venv-mlflow2");
  const python = join(venv, "bin", "python");
  const stamp = join(venv, ".arcuate-requirements-hash");
  const hash = createHash("sha256");
  for (const file of REQUIREMENTS) hash.update(readFileSync(join(root, file)));
  const digest = hash.digest("hex");
  if (existsSync(python) && existsSync(stamp) && readFileSync(stamp, "utf8").trim() === digest) return;
  if (!existsSync(python)) {
    // The main venv's interpreter: already found (and checked) by the main set-up.
    const base = join(root, ".venv", "bin", "python");
    log("creating the MLflow 2.x test peer's virtual environment in .venv-mlflow2");
    run(root, existsSync(base) ? base : "python3", ["-m", "venv", venv]);
  }
  log("installing the pinned MLflow 2.22 into .venv-mlflow2");
  const pip = ["-m", "pip", "install", "--disable-pip-version-check", "--quiet"];
  run(root, python, [...pip, "-r", REQUIREMENTS[0], "-c", REQUIREMENTS[1]]);
  writeFileSync(stamp, digest);
}
