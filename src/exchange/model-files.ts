// Model files of an exported registered model: each READY version's MLflow model directory
// (MLmodel, environment files, weights) copied as plain files to `model_versions/<n>/` beside the
// export's tables, then a manifest `model_versions/<n>.json` (see src/sharing/models.ts). This is
// what an OpenSharing recipient downloads with the credentials the server vends for the version:
// no arcuate, no Delta, only the files MLflow itself wrote.
//
// Versions are immutable in MLflow, so a version whose manifest names the same source is skipped;
// a version whose source changed (a model deleted and registered again) is written afresh.
import { createHash, randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { LocalStorage, S3Storage, type Storage } from "../delta/index.js";
import { NotFoundError } from "../errors.js";
import type { LoggedModel, MlflowClient, ModelVersion, Run } from "../mlflow/index.js";
import {
  type ModelFileEntry,
  type ModelFilesManifest,
  manifestPath,
  modelFilesRoot,
  storageAt,
  versionPrefix,
} from "../sharing/models.js";

export interface ModelFilesSummary {
  /** Versions whose files were written by this export. */
  written: number;
  /** Versions already complete from an earlier export. */
  unchanged: number;
  /** Versions without files: not READY, or a source the export cannot read. */
  skipped: number;
  bytes: number;
}

/** Where a version's model directory is at the provider: an artifact root and a folder under it. */
export function versionDirectory(
  version: ModelVersion,
  loggedModelId: string | null,
  runs: Run[],
  loggedModels: LoggedModel[],
): { root: string; under: string } | undefined {
  const source = version.source ?? "";
  const logged = loggedModelId ? loggedModels.find((m) => m.info.model_id === loggedModelId) : undefined;
  if (logged?.info.artifact_uri) {
    const root = logged.info.artifact_uri;
    if (source.startsWith(`${root.replace(/\/+$/, "")}/`))
      return { root, under: source.slice(root.replace(/\/+$/, "").length + 1) };
    return { root, under: "" };
  }
  const runsMatch = /^runs:\/([^/]+)\/(.*)$/.exec(source);
  if (runsMatch) {
    const run = runs.find((r) => r.info.run_id === runsMatch[1]);
    if (run?.info.artifact_uri)
      return { root: run.info.artifact_uri, under: runsMatch[2]!.replace(/\/+$/, "") };
    return undefined;
  }
  const run = runs.find((r) => r.info.run_id === version.run_id);
  const root = run?.info.artifact_uri?.replace(/\/+$/, "");
  if (root && source.startsWith(`${root}/`)) return { root, under: source.slice(root.length + 1) };
  return undefined;
}

/** The logged model behind a version: its `model_id`, or a `models:/m-…` source. */
function loggedModelOf(version: ModelVersion): string | null {
  if (version.model_id) return version.model_id;
  return /^models:\/(m-[0-9a-f]+)$/.exec(version.source ?? "")?.[1] ?? null;
}

async function readManifest(storage: Storage, version: number): Promise<ModelFilesManifest | undefined> {
  try {
    return JSON.parse(
      new TextDecoder().decode(await storage.read(manifestPath(version))),
    ) as ModelFilesManifest;
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

/**
 * Streams `source` to `path` in `storage`, hashing as it goes: a multipart upload on S3, a
 * temporary file renamed into place on a local disk. No file is ever held whole in memory.
 */
async function writeStreamed(
  storage: Storage,
  path: string,
  source: AsyncIterable<Uint8Array | string>,
): Promise<{ size: number; sha256: string }> {
  const hash = createHash("sha256");
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  const input = source instanceof Readable ? source : Readable.from(source);
  input.on("error", (error) => tap.destroy(error)); // pipe() alone would not pass it on
  const bytes = input.pipe(tap);
  if (storage instanceof S3Storage) {
    await storage.writeStream(path, bytes);
  } else if (storage instanceof LocalStorage) {
    const target = join(storage.rootDir, ...path.split("/"));
    const temp = `${target}.${randomUUID()}.tmp`;
    await mkdir(dirname(target), { recursive: true });
    try {
      await pipeline(bytes, createWriteStream(temp));
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  } else {
    // Other stores (the in-memory one of unit tests) take whole files.
    const pieces: Buffer[] = [];
    for await (const piece of bytes) pieces.push(piece as Buffer);
    await storage.write(path, Buffer.concat(pieces));
  }
  return { size, sha256: hash.digest("hex") };
}

/**
 * Writes the model files of every READY version to `model_versions/` beside the `versions` table
 * at `versionsTableLocation`. Call it before the `versions` table is committed, so a recipient
 * never sees a version row whose files are still being written.
 */
export async function exportModelFiles(
  mlflow: MlflowClient,
  versions: ModelVersion[],
  runs: Run[],
  loggedModels: LoggedModel[],
  versionsTableLocation: string,
  onProgress?: (message: string) => void,
): Promise<ModelFilesSummary> {
  const storage = storageAt(modelFilesRoot(versionsTableLocation));
  const summary: ModelFilesSummary = { written: 0, unchanged: 0, skipped: 0, bytes: 0 };
  for (const version of versions) {
    const loggedModelId = loggedModelOf(version);
    const number = Number(version.version);
    const directory =
      version.status === "READY" ? versionDirectory(version, loggedModelId, runs, loggedModels) : undefined;
    if (!directory) {
      summary.skipped++;
      continue;
    }
    const source = version.source ?? "";
    const existing = await readManifest(storage, number);
    if (existing && existing.source === source) {
      summary.unchanged++;
      continue;
    }
    // Written afresh: the manifest goes first (so the version stops being READY), then stale files.
    if (existing) await storage.delete(manifestPath(number));
    const prefix = versionPrefix(number);
    for (const stale of await storage.list(prefix)) await storage.delete(stale.path);
    const files: ModelFileEntry[] = [];
    const listed = await mlflow.artifacts.listFiles(directory.root, directory.under);
    if (listed.length === 0 || !listed.some((f) => f.path.endsWith("MLmodel"))) {
      // Not an MLflow model directory (or gone): the version stays PENDING_REGISTRATION.
      summary.skipped++;
      continue;
    }
    for (const file of listed) {
      const relative = directory.under ? file.path.slice(directory.under.length + 1) : file.path;
      const download = await mlflow.artifacts.download(directory.root, file.path);
      const { size, sha256 } = await writeStreamed(storage, `${prefix}${relative}`, download);
      files.push({ path: relative, size, sha256 });
      summary.bytes += size;
    }
    const manifest: ModelFilesManifest = {
      version: number,
      source,
      files,
      writtenAt: new Date().toISOString(),
    };
    await storage.write(
      manifestPath(number),
      new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`),
    );
    summary.written++;
    onProgress?.(`model files: version ${number}, ${files.length} files`);
  }
  return summary;
}
