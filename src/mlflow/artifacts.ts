// Artifacts of runs and logged models, streamed: through the tracking server's `mlflow-artifacts`
// proxy (`--serve-artifacts`), or straight from the file system when the artifact root is a local
// `file://` folder. Files are never held whole in memory: downloads are streams, uploads read the
// local file as a stream (and reopen it when a retry is needed).
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, stat } from "node:fs/promises";
import { dirname, join, posix, sep } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { ArcuateError } from "../errors.js";
import type { Http } from "./http.js";
import type { FileInfo } from "./types.js";

/** A file under an artifact root: its path relative to the root, with `/` separators. */
export interface ArtifactFile {
  path: string;
  size: number;
}

/** Where an artifact root lives: behind the proxy (a path under it) or on the local disk. */
export type ArtifactLocation = { kind: "proxy"; path: string } | { kind: "local"; dir: string };

/** Parses an artifact root URI as MLflow reports it (`artifact_uri`, `artifact_location`). */
export function parseArtifactRoot(uri: string): ArtifactLocation {
  if (uri.startsWith("mlflow-artifacts:")) {
    // mlflow-artifacts:/1/abc/artifacts, or mlflow-artifacts://host:port/1/abc/artifacts
    const rest = uri.slice("mlflow-artifacts:".length);
    const path = rest.startsWith("//") ? rest.slice(rest.indexOf("/", 2)) : rest;
    return { kind: "proxy", path: path.replace(/^\/+/, "").replace(/\/+$/, "") };
  }
  const proxyMarker = "/api/2.0/mlflow-artifacts/artifacts/";
  if (/^https?:\/\//.test(uri) && uri.includes(proxyMarker)) {
    return {
      kind: "proxy",
      path: uri.slice(uri.indexOf(proxyMarker) + proxyMarker.length).replace(/\/+$/, ""),
    };
  }
  if (uri.startsWith("file:")) return { kind: "local", dir: fileURLToPath(uri) };
  if (uri.startsWith("/")) return { kind: "local", dir: uri };
  throw new ArcuateError(
    "UNSUPPORTED_FEATURE",
    `mlflow: artifact root '${uri}' is neither served by the tracking server (mlflow-artifacts:) nor a local folder; start the server with --serve-artifacts`,
  );
}

function checkRelative(path: string): string {
  const normal = posix.normalize(path.replace(/\\/g, "/")).replace(/^\/+/, "");
  if (normal === ".." || normal.startsWith("../") || normal.includes("/../")) {
    throw new ArcuateError("INVALID_PARAMETER_VALUE", `mlflow: artifact path '${path}' leaves its root`);
  }
  return normal === "." ? "" : normal;
}

function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

export class Artifacts {
  constructor(private readonly http: Http) {}

  /** Every file under the root (recursively), sorted by path. */
  async listFiles(root: string, under = ""): Promise<ArtifactFile[]> {
    const location = parseArtifactRoot(root);
    const files: ArtifactFile[] = [];
    const start = checkRelative(under);
    if (location.kind === "local") await listLocal(location.dir, start, files);
    else await this.listProxy(location.path, start, files);
    return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  private async listProxy(rootPath: string, relative: string, into: ArtifactFile[]): Promise<void> {
    const reply = await this.http.call<{ files?: FileInfo[] }>("GET", "/mlflow-artifacts/artifacts", {
      query: { path: relative ? `${rootPath}/${relative}` : rootPath },
    });
    const folders: Promise<void>[] = [];
    for (const entry of reply.files ?? []) {
      // The proxy answers with names relative to the folder listed.
      const path = relative ? `${relative}/${entry.path}` : entry.path;
      // Sibling folders are listed side by side (one request each; Http bounds the fan-out).
      if (entry.is_dir) folders.push(this.listProxy(rootPath, path, into));
      else into.push({ path, size: Number(entry.file_size ?? 0) });
    }
    await Promise.all(folders);
  }

  /** A stream of one file's bytes. The caller must consume or destroy it. */
  async download(root: string, path: string): Promise<Readable> {
    const location = parseArtifactRoot(root);
    const relative = checkRelative(path);
    if (location.kind === "local") return createReadStream(join(location.dir, ...relative.split("/")));
    const response = await this.http.send(
      "GET",
      `/api/2.0/mlflow-artifacts/artifacts/${encodePath(`${location.path}/${relative}`)}`,
      { timeoutMs: 3_600_000 },
    );
    if (!response.body) return Readable.from([]);
    return Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>);
  }

  /** Downloads one file to a local path, streaming. */
  async downloadTo(root: string, path: string, target: string): Promise<void> {
    await mkdir(dirname(target), { recursive: true });
    await pipeline(await this.download(root, path), createWriteStream(target));
  }

  /**
   * Uploads bytes from `source` as `path` under the root. A function source is called again
   * for each retry; a single stream is sent once, without retries.
   */
  async upload(
    root: string,
    path: string,
    source: (() => AsyncIterable<Uint8Array>) | AsyncIterable<Uint8Array>,
  ): Promise<void> {
    const location = parseArtifactRoot(root);
    const relative = checkRelative(path);
    if (!relative) throw new ArcuateError("INVALID_PARAMETER_VALUE", "mlflow: an artifact needs a file name");
    if (location.kind === "local") {
      const target = join(location.dir, ...relative.split("/"));
      await mkdir(dirname(target), { recursive: true });
      const iterable = typeof source === "function" ? source() : source;
      await pipeline(Readable.from(iterable), createWriteStream(target));
      return;
    }
    const canRetry = typeof source === "function";
    await this.http.upload(
      "PUT",
      `/api/2.0/mlflow-artifacts/artifacts/${encodePath(`${location.path}/${relative}`)}`,
      canRetry ? source : () => source,
      { retry: canRetry, headers: { "content-type": "application/octet-stream" } },
    );
  }

  /** Uploads a local file, streaming it (and reopening it on retry). */
  uploadFile(root: string, path: string, localFile: string): Promise<void> {
    return this.upload(root, path, () => createReadStream(localFile));
  }

  /** Uploads every file of a local folder under `path`, keeping the folder layout. */
  async uploadDir(root: string, path: string, localDir: string): Promise<number> {
    const files: ArtifactFile[] = [];
    await listLocal(localDir, "", files);
    await Promise.all(
      files.map((file) =>
        this.uploadFile(
          root,
          path ? `${path}/${file.path}` : file.path,
          join(localDir, ...file.path.split("/")),
        ),
      ),
    );
    return files.length;
  }
}

async function listLocal(rootDir: string, relative: string, into: ArtifactFile[]): Promise<void> {
  const dir = relative ? join(rootDir, ...relative.split("/")) : rootDir;
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  for (const entry of entries) {
    const path = relative ? `${relative}/${entry.name}` : entry.name;
    if (entry.isDirectory()) await listLocal(rootDir, path, into);
    else if (entry.isFile()) into.push({ path, size: (await stat(join(dir, entry.name))).size });
  }
}

/** Joins path segments of an artifact path with `/` whatever the platform. */
export function artifactPath(...parts: string[]): string {
  return parts.filter(Boolean).join("/").split(sep).join("/");
}
