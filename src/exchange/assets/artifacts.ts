// How artifacts travel: one row per chunk of a file of the `artifacts` table (owner run or
// logged model, path, chunk index and count, size, sha256 of the chunk and of the file, bytes).
// Files are cut into CHUNK_BYTES chunks and streamed, never held whole; small files are read a
// few at a time ahead of the one being written. Export is incremental (a file whose latest copy
// has the listed size is not read again); import joins a file's chunks on disk, checks its
// sha256, and uploads what the recipient's run or model does not have yet. An MLmodel file is
// uploaded with the run and model ids in it rewritten to the recipient's (mlmodel.ts).
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RecordBatch } from "apache-arrow";
import { Schema } from "apache-arrow";
import { ArcuateError } from "../../errors.js";
import type { ArtifactFile, MlflowClient } from "../../mlflow/index.js";
import { columnValues } from "../columns.js";
import { mapUnordered, Pool } from "../concurrency.js";
import { isMlmodelPath, rewriteMlmodel } from "../mlmodel.js";
import type { ExportSource } from "../source.js";
import type { ExportTable } from "../tables.js";
import { binary, CHUNK_BYTES, exportSeq, int32, int64, utf8 } from "./fields.js";
import { once, rowsToBatch, upToSeq } from "./rows.js";
import { completeUpTo, type ImportStep, modelCompleteUpTo } from "./targets.js";

export const ARTIFACT_SCHEMAS = {
  artifacts: new Schema([
    /** "run" or "logged_model". */
    utf8("owner_kind", false),
    utf8("owner_id", false),
    utf8("path", false),
    int32("chunk_index", false),
    int32("chunk_count", false),
    int64("size", false),
    utf8("chunk_sha256", false),
    /** sha256 of the whole file, on the file's last chunk (null on the others). */
    utf8("file_sha256"),
    binary("bytes", false),
    exportSeq(),
  ]),
} as const;

/** Chunk rows are handed to the writer once they hold this many bytes (one full chunk). */
const ARTIFACT_BATCH_BYTES = CHUNK_BYTES;

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

// ---- export ---------------------------------------------------------------------------------

/** Files the artifacts table already holds completely: owner/path → size of the latest copy. */
export async function existingArtifacts(table: ExportTable): Promise<Map<string, number>> {
  const files = new Map<string, number>();
  const names = ["owner_kind", "owner_id", "path", "size", "chunk_index", "chunk_count"];
  for await (const batch of table.scan(names)) {
    const [kinds, owners, paths, sizes, indexes, counts] = names.map((name) => columnValues(batch, name));
    for (let i = 0; i < batch.numRows; i++) {
      if (indexes![i] === (counts![i] as number) - 1)
        files.set(`${kinds![i]}/${owners![i]}/${paths![i]}`, sizes![i] as number);
    }
  }
  return files;
}

export interface Owner {
  kind: "run" | "logged_model";
  id: string;
  artifactRoot: string | undefined;
}

/** Every artifact of the owners not yet exported, as batches of chunk rows (files streamed). */
export async function* artifactBatches(
  mlflow: MlflowClient,
  owners: Iterable<Owner> | AsyncIterable<Owner>,
  existing: Map<string, number>,
  seq: number,
  stats: { files: number; bytes: number },
  progress: (message: string) => void,
  concurrency: number,
): AsyncGenerator<RecordBatch> {
  let rows: Record<string, unknown>[] = [];
  let rowBytes = 0;
  const flush = () => {
    const batch = rowsToBatch(ARTIFACT_SCHEMAS.artifacts, rows, seq);
    rows = [];
    rowBytes = 0;
    return batch;
  };
  // Owners are listed, and their small files read, many at a time ahead of the one being
  // written, and written in the order they are ready (an owner's files stay together; owners
  // need no order): thousands of small files otherwise cost a round trip each, one after
  // another. An owner's listing is a few round trips deep with one or two requests each, so
  // twice `concurrency` owners keep `concurrency` requests in flight. The bytes read ahead are
  // bounded in all (PREFETCH_BYTES), however many owners are in flight.
  const ownersInFlight = 2 * concurrency;
  const ownerBudget = Math.max(MIN_PREFETCH_BYTES_PER_OWNER, Math.floor(PREFETCH_BYTES / ownersInFlight));
  const listed = mapUnordered(withArtifactRoot(owners), ownersInFlight, async (owner) => {
    const root = owner.artifactRoot!;
    const files = (await mlflow.artifacts.listFiles(root)).filter(
      (file) => existing.get(`${owner.kind}/${owner.id}/${file.path}`) !== file.size,
    );
    return { owner, root, files: await prefetchSmallFiles(mlflow, root, files, ownerBudget) };
  });
  for await (const { owner, root, files } of listed) {
    for (const { file, bytes } of files) {
      const chunkCount = Math.max(1, Math.ceil(file.size / CHUNK_BYTES));
      const fileHash = createHash("sha256");
      let index = 0;
      let size = 0;
      for await (const chunk of chunked(
        bytes ? once(bytes) : await mlflow.artifacts.download(root, file.path),
        CHUNK_BYTES,
      )) {
        fileHash.update(chunk);
        size += chunk.length;
        rows.push({
          owner_kind: owner.kind,
          owner_id: owner.id,
          path: file.path,
          chunk_index: index,
          chunk_count: chunkCount,
          size: file.size,
          chunk_sha256: sha256(chunk),
          file_sha256: index === chunkCount - 1 ? "" : null,
          bytes: chunk,
        });
        rowBytes += chunk.length;
        index++;
        if (index === chunkCount) break;
        if (rowBytes >= ARTIFACT_BATCH_BYTES) yield flush();
      }
      if (file.size === 0 && index === 0) {
        rows.push({
          owner_kind: owner.kind,
          owner_id: owner.id,
          path: file.path,
          chunk_index: 0,
          chunk_count: 1,
          size: 0,
          chunk_sha256: sha256(new Uint8Array(0)),
          file_sha256: "",
          bytes: new Uint8Array(0),
        });
        index = 1;
      }
      if (index !== chunkCount || size !== file.size) {
        throw new ArcuateError(
          "CONFLICT",
          `exchange: artifact '${file.path}' of ${owner.kind} ${owner.id} changed while it was exported (${size} bytes read, ${file.size} listed); export again`,
        );
      }
      rows[rows.length - 1]!.file_sha256 = fileHash.digest("hex");
      stats.files++;
      stats.bytes += size;
      progress(`artifacts: ${stats.files} files, ${(stats.bytes / 1048576).toFixed(1)} MiB`);
      if (rowBytes >= ARTIFACT_BATCH_BYTES) yield flush();
    }
  }
  if (rows.length > 0) yield flush();
}

async function* withArtifactRoot(owners: Iterable<Owner> | AsyncIterable<Owner>): AsyncGenerator<Owner> {
  for await (const owner of owners) if (owner.artifactRoot) yield owner;
}

/** Bytes of small files read ahead, over all the owners in flight. */
const PREFETCH_BYTES = 32 * 1024 * 1024;
/** An owner's share of PREFETCH_BYTES is at least this (so a few small files always go ahead). */
const MIN_PREFETCH_BYTES_PER_OWNER = 256 * 1024;

/**
 * Reads the owner's small files into memory side by side (at most `budget` bytes in all);
 * bigger files are left to be streamed when their turn comes.
 */
async function prefetchSmallFiles(
  mlflow: MlflowClient,
  root: string,
  files: ArtifactFile[],
  budget: number,
): Promise<Array<{ file: ArtifactFile; bytes?: Uint8Array }>> {
  return Promise.all(
    files.map(async (file) => {
      if (file.size > budget) return { file };
      budget -= file.size;
      return {
        file,
        bytes: Buffer.concat(await (await mlflow.artifacts.download(root, file.path)).toArray()),
      };
    }),
  );
}

/**
 * Re-chunks a byte stream into pieces of exactly `size` bytes (the last may be shorter). Pieces
 * are joined only at chunk boundaries, so a small file costs its own size, not a whole chunk
 * (a fresh 8 MiB buffer per file was gigabytes of garbage over thousands of small artifacts).
 */
export async function* chunked(
  stream: AsyncIterable<Uint8Array | string>,
  size: number,
): AsyncGenerator<Uint8Array> {
  let pieces: Uint8Array[] = [];
  let filled = 0;
  for await (const piece of stream) {
    let bytes = typeof piece === "string" ? new TextEncoder().encode(piece) : piece;
    while (bytes.length > 0) {
      const take = Math.min(size - filled, bytes.length);
      pieces.push(take === bytes.length ? bytes : bytes.subarray(0, take));
      filled += take;
      bytes = bytes.subarray(take);
      if (filled === size) {
        yield joined(pieces, filled);
        pieces = [];
        filled = 0;
      }
    }
  }
  if (filled > 0) yield joined(pieces, filled);
}

function joined(pieces: Uint8Array[], length: number): Uint8Array {
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, length);
}

// ---- import ---------------------------------------------------------------------------------

interface FileKey {
  owner: string;
  path: string;
}

/** The export_seq of the latest complete copy of each file (a changed file is exported again). */
async function latestFileCopies(source: ExportSource, maxSeq: number): Promise<Map<string, number>> {
  const latest = new Map<string, number>();
  for await (const batch of upToSeq(source, "artifacts", maxSeq)) {
    const kinds = columnValues(batch, "owner_kind");
    const owners = columnValues(batch, "owner_id");
    const paths = columnValues(batch, "path");
    const seqs = columnValues(batch, "export_seq");
    for (let i = 0; i < batch.numRows; i++) {
      const id = `${kinds[i]}/${owners[i]}/${paths[i]}`;
      latest.set(id, Math.max(latest.get(id) ?? 0, Number(seqs[i])));
    }
  }
  return latest;
}

/** Every artifact not at the recipient yet: chunks joined on disk, checked, then uploaded. */
export async function importArtifacts(step: ImportStep): Promise<number> {
  const { mlflow, source, maxSeq, targets, concurrency, progress } = step;
  const latest = await latestFileCopies(source, maxSeq);
  const listed = new Map<string, Map<string, number>>();
  const existingFiles = async (root: string, created: boolean): Promise<Map<string, number>> => {
    // A run or model this import created has no files yet: no listing to wait for.
    if (created) return new Map();
    let files = listed.get(root);
    if (!files) {
      files = new Map((await mlflow.artifacts.listFiles(root)).map((f) => [f.path, f.size]));
      listed.set(root, files);
    }
    return files;
  };
  const temp = await mkdtemp(join(tmpdir(), "arcuate-import-"));
  const ids = { runIds: targets.runIds, modelIds: targets.modelIds };
  let uploaded = 0;
  let assembled = 0;
  const uploads = new Pool(concurrency);
  let current:
    | {
        key: FileKey;
        root: string;
        file: string;
        out: ReturnType<typeof createWriteStream>;
        hash: ReturnType<typeof createHash>;
        next: number;
        count: number;
        size: number;
        sha: string | null;
      }
    | undefined;
  const finish = async () => {
    if (!current) return;
    const file = current;
    current = undefined;
    await new Promise<void>((resolve, reject) =>
      file.out.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    if (file.next !== file.count) {
      throw new ArcuateError(
        "CORRUPT_TABLE",
        `exchange: artifact '${file.key.path}' of ${file.key.owner} has ${file.next} of its ${file.count} chunks`,
      );
    }
    const digest = file.hash.digest("hex");
    if (file.sha !== null && digest !== file.sha) {
      throw new ArcuateError(
        "CORRUPT_TABLE",
        `exchange: artifact '${file.key.path}' of ${file.key.owner} has sha256 ${digest}, the export says ${file.sha}`,
      );
    }
    // Uploads go on in the background (a few at a time) while the next files are assembled.
    await uploads.add(async () => {
      if (isMlmodelPath(file.key.path)) {
        const text = rewriteMlmodel(await readFile(file.file, "utf8"), ids);
        await mlflow.artifacts.upload(file.root, file.key.path, async function* () {
          yield new TextEncoder().encode(text);
        });
      } else {
        await mlflow.artifacts.uploadFile(file.root, file.key.path, file.file);
      }
      await rm(file.file, { force: true });
      uploaded++;
      progress(`artifacts: ${uploaded} files`);
    });
  };
  try {
    for await (const batch of upToSeq(source, "artifacts", maxSeq)) {
      const names = [
        "owner_kind",
        "owner_id",
        "path",
        "chunk_index",
        "chunk_count",
        "size",
        "file_sha256",
        "export_seq",
      ];
      const [kinds, owners, paths, indexes, counts, sizes, shas, seqs] = names.map((name) =>
        columnValues(batch, name),
      );
      const bytes = batch.getChild("bytes")!;
      for (let i = 0; i < batch.numRows; i++) {
        const kind = String(kinds![i]);
        const owner = String(owners![i]);
        const path = String(paths![i]);
        const id = `${kind}/${owner}/${path}`;
        if (latest.get(id) !== Number(seqs![i])) continue;
        const root =
          kind === "run" ? targets.runArtifactRoots.get(owner) : targets.modelArtifactRoots.get(owner);
        if (!root) continue;
        const complete = kind === "run" ? completeUpTo : modelCompleteUpTo;
        if (complete(targets, owner, Number(seqs![i]))) continue;
        const index = Number(indexes![i]);
        if (index === 0) {
          await finish();
          const size = Number(sizes![i]);
          // An MLmodel is uploaded rewritten (other ids, so another size): present is enough,
          // unless this import created its owner.
          const createdOwner = (kind === "run" ? targets.createdRuns : targets.createdModels).has(owner);
          const present = (await existingFiles(root, createdOwner)).get(path);
          if (present === size && !isMlmodelPath(path)) continue;
          if (present !== undefined && isMlmodelPath(path) && !createdOwner) continue;
          current = {
            key: { owner: `${kind} ${owner}`, path },
            root,
            file: join(temp, `${assembled}.part`),
            out: createWriteStream(join(temp, `${assembled++}.part`)),
            hash: createHash("sha256"),
            next: 0,
            count: Number(counts![i]),
            size,
            sha: null,
          };
        }
        if (!current || current.key.path !== path || current.key.owner !== `${kind} ${owner}`) continue;
        if (index !== current.next) {
          throw new ArcuateError(
            "CORRUPT_TABLE",
            `exchange: artifact '${path}' of ${kind} ${owner}: chunk ${index} came where chunk ${current.next} was expected`,
          );
        }
        const chunk = bytes.get(i) as Uint8Array;
        current.hash.update(chunk);
        if (!current.out.write(chunk)) {
          const out = current.out;
          await new Promise<void>((resolve) => out.once("drain", () => resolve()));
        }
        current.next++;
        if (shas![i]) current.sha = String(shas![i]);
        if (current.next === current.count) await finish();
      }
    }
    await finish();
    await uploads.drain();
  } finally {
    current?.out.destroy();
    await uploads.drain().catch(() => {});
    await rm(temp, { recursive: true, force: true });
  }
  return uploaded;
}
