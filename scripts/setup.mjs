#!/usr/bin/env node
// Idempotent project set-up, run by `npm test`, `npm run demo` and `npm run bench`:
// the npm packages from the lock file, and the pinned Python peers (MLflow, the Delta Sharing
// connector, delta-rs, Jupyter) in a project-local virtual environment. Each step leaves a
// stamp (a hash of its inputs) inside what it built, so a second run takes well under a second
// and deleting node_modules or .venv is enough to start over.
// Plain Node built-ins only: this runs before node_modules exists.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { mlflow2 } from "./setup/mlflow2.mjs";
import { nginx } from "./setup/nginx.mjs";
import { postgres } from "./setup/postgres.mjs";
import { seaweedfs } from "./setup/seaweedfs.mjs";
import { sparkJars } from "./setup/spark.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const venv = join(root, ".venv");
const venvPython = join(venv, "bin", "python");

function log(message) {
  process.stderr.write(`setup: ${message}\n`);
}

function hashOf(...files) {
  const hash = createHash("sha256");
  for (const file of files) hash.update(readFileSync(join(root, file)));
  return hash.digest("hex");
}

function stampIsCurrent(stampFile, hash) {
  return existsSync(stampFile) && readFileSync(stampFile, "utf8").trim() === hash;
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", ...options });
  if (result.status !== 0) {
    throw new Error(`setup: '${command} ${args.join(" ")}' failed with exit code ${result.status}`);
  }
}

function npmPackages() {
  const stamp = join(root, "node_modules", ".arcuate-lock-hash");
  const hash = hashOf("package-lock.json");
  if (stampIsCurrent(stamp, hash)) return;
  // `npm install` rather than `npm ci`: it installs the locked versions as well, and unlike
  // `npm ci` it tolerates optional per-platform packages (biome's) that a registry mirror lacks.
  log("installing npm packages");
  run("npm", ["install", "--no-audit", "--no-fund"]);
  writeFileSync(stamp, hash);
}

function findPython() {
  const candidates = [
    process.env.ARCUATE_PYTHON,
    "python3.13",
    "python3.12",
    "python3.11",
    "python3.10",
    "python3",
  ];
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      const version = execFileSync(
        candidate,
        ["-c", "import sys, venv; print('%d.%d' % sys.version_info[:2])"],
        {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "ignore"],
        },
      ).trim();
      const [major, minor] = version.split(".").map(Number);
      if (major === 3 && minor >= 10) return candidate;
    } catch {
      // not on PATH, or without venv: try the next one
    }
  }
  throw new Error(
    "setup: arcuate's test peers need Python >= 3.10 with the venv module (set ARCUATE_PYTHON to its path)",
  );
}

function pythonPeers() {
  const stamp = join(venv, ".arcuate-requirements-hash");
  const hash = hashOf("python/requirements.txt", "python/constraints.txt");
  if (existsSync(venvPython) && stampIsCurrent(stamp, hash)) return;
  if (!existsSync(venvPython)) {
    const python = findPython();
    log(`creating the Python virtual environment in .venv with ${python}`);
    run(python, ["-m", "venv", venv]);
  }
  log("installing the pinned Python peers into .venv (MLflow, delta-sharing, deltalake, Jupyter)");
  const pip = ["-m", "pip", "install", "--disable-pip-version-check", "--quiet"];
  run(venvPython, [...pip, "-r", "python/requirements.txt", "-c", "python/constraints.txt"]);
  writeFileSync(stamp, hash);
}

/**
 * Debian's Chromium, for the test that opens the rendered demo notebook in a headless browser.
 * Installed with apt-get when running as root (as on CI and the project's machines); otherwise
 * the command to run is printed and that one test reports Chromium missing.
 */
function chromium() {
  const found = spawnSync("sh", ["-c", "command -v chromium"], { stdio: "ignore" }).status === 0;
  if (found) return;
  if (
    process.getuid?.() !== 0 ||
    spawnSync("sh", ["-c", "command -v apt-get"], { stdio: "ignore" }).status !== 0
  ) {
    log("Chromium is missing; install it with: sudo apt-get install -y --no-install-recommends chromium");
    return;
  }
  log("installing Debian's chromium (apt-get)");
  run("apt-get", ["update", "-qq"]);
  run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "chromium"], {
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
}

try {
  npmPackages();
  pythonPeers();
  mlflow2(root, log);
  if (process.argv.includes("--with-chromium")) chromium();
  postgres();
  nginx();
  if (process.argv.includes("--with-chromium")) seaweedfs(log); // the tests' S3 server, not the demo's
  if (process.argv.includes("--with-chromium")) await sparkJars(log, run); // the Delta tests' oracle
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
