// SeaweedFS, the S3-compatible server the object-storage tests run against (`weed mini`). Built
// once from its Go module into a cache outside the checkout and reused by every later run: a cold
// build takes minutes, so a test run never builds it. `go install …@version` is refused for this
// module (its go.mod has replace directives), so the module is downloaded and built in place.
// Plain Node built-ins only: this runs before node_modules exists.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const SEAWEEDFS_VERSION = "v0.0.0-20261109003541-7506e5f91cd6";

/** Where the binary lives: `$ARCUATE_CACHE` (default `~/.cache/arcuate`)/seaweedfs-<version>/weed. */
export function seaweedfsBinary() {
  const cache = process.env.ARCUATE_CACHE ?? join(homedir(), ".cache", "arcuate");
  return join(cache, `seaweedfs-${SEAWEEDFS_VERSION}`, "weed");
}

/** Builds `weed` into the cache when it is not there yet; a no-op otherwise. */
export function seaweedfs(log = (message) => process.stderr.write(`setup: ${message}\n`)) {
  const binary = seaweedfsBinary();
  if (existsSync(binary)) return binary;
  if (spawnSync("sh", ["-c", "command -v go"], { stdio: "ignore" }).status !== 0) {
    throw new Error(
      "setup: building SeaweedFS (the tests' S3 server) needs Go >= 1.24 on PATH; install it from https://go.dev/dl/",
    );
  }
  log(`building SeaweedFS ${SEAWEEDFS_VERSION} into ${binary} (once; a cold build takes ~15 minutes)`);
  const module = `github.com/seaweedfs/seaweedfs@${SEAWEEDFS_VERSION}`;
  const info = JSON.parse(
    execFileSync("go", ["mod", "download", "-json", module], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      maxBuffer: 16 << 20,
    }),
  );
  if (typeof info.Dir !== "string" || info.Dir === "") {
    throw new Error(
      `setup: 'go mod download ${module}' gave no module folder${info.Error ? `: ${info.Error}` : ""}`,
    );
  }
  const folder = join(binary, "..");
  mkdirSync(folder, { recursive: true });
  // Built under a temporary name and renamed, so an interrupted build never leaves a broken binary.
  const partial = `${binary}.partial-${process.pid}`;
  const result = spawnSync("go", ["build", "-ldflags=-s -w", "-o", partial, "./weed"], {
    cwd: info.Dir,
    stdio: "inherit",
  });
  if (result.status !== 0)
    throw new Error(`setup: building SeaweedFS failed with exit code ${result.status}`);
  renameSync(partial, binary);
  return binary;
}
