// Serving a table's data file for a verified file URL, with HTTP range requests. The file path
// comes from the Delta log (signed into the URL by us), and is still confined to the table's
// folder: a path that resolves (after percent-decoding and symlinks) outside the table root is
// refused without being opened.
import { createReadStream } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { isAbsolute, resolve, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { ArcuateError } from "../../errors.js";

/**
 * Bytes read from disk at a time when serving a file. Node's default (64 KiB) made the server
 * spend 52 ms of CPU sending 10 data files of 2.3 MB; 1 MiB reads took 21-31 ms (bench/client.ts
 * setting). The stream never reads past the range asked, so a small file still takes a small
 * buffer; a large one holds at most this much per download in flight.
 */
const READ_CHUNK = 1 << 20;

const forbidden = () =>
  new ArcuateError("PERMISSION_DENIED", "sharing: file URL does not name a file of the table");

/** The local path of a Delta log file path inside `tableRoot`, or a 403 when it would leave it. */
export async function resolveTableFile(tableRoot: string, logPath: string): Promise<string> {
  let decoded: string;
  if (/^[a-z][a-z0-9+.-]*:/i.test(logPath)) {
    if (!logPath.toLowerCase().startsWith("file:")) throw forbidden();
    try {
      decoded = fileURLToPath(logPath);
    } catch {
      throw forbidden();
    }
  } else {
    try {
      decoded = decodeURIComponent(logPath);
    } catch {
      throw forbidden();
    }
    if (isAbsolute(decoded)) throw forbidden();
  }
  if (decoded.includes("\0")) throw forbidden();
  const root = await realpath(tableRoot).catch(() => {
    throw new ArcuateError("RESOURCE_DOES_NOT_EXIST", "sharing: the table's folder is missing");
  });
  const candidate = resolve(root, decoded);
  if (!candidate.startsWith(root + sep)) throw forbidden();
  const real = await realpath(candidate).catch(() => {
    throw new ArcuateError("RESOURCE_DOES_NOT_EXIST", "sharing: the file no longer exists (vacuumed?)");
  });
  if (!real.startsWith(root + sep)) throw forbidden();
  return real;
}

/** Sends a file, honouring a single `Range: bytes=…` (several ranges get the whole file). */
export async function sendFile(
  res: ServerResponse,
  path: string,
  rangeHeader: string | undefined,
  headOnly: boolean,
): Promise<void> {
  const info = await stat(path);
  if (!info.isFile()) throw forbidden();
  const size = info.size;
  let start = 0;
  let end = size - 1;
  let partial = false;
  if (rangeHeader !== undefined) {
    const range = parseRange(rangeHeader, size);
    if (range === "unsatisfiable") {
      throw new ArcuateError(
        "INVALID_PARAMETER_VALUE",
        `sharing: range '${rangeHeader.slice(0, 60)}' is outside the file`,
        {
          details: { httpStatus: 416, contentRange: `bytes */${size}` },
        },
      );
    }
    if (range) {
      [start, end] = range;
      partial = true;
    }
  }
  const length = size === 0 ? 0 : end - start + 1;
  const headers: Record<string, string | number> = {
    "Content-Type": "application/octet-stream",
    "Content-Length": length,
    "Accept-Ranges": "bytes",
    "Last-Modified": info.mtime.toUTCString(),
    "Cache-Control": "private, max-age=0",
  };
  if (partial) headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
  res.writeHead(partial ? 206 : 200, headers);
  if (headOnly || length === 0) {
    res.end();
    return;
  }
  await pipeline(createReadStream(path, { start, end, highWaterMark: READ_CHUNK }), res);
}

/** `[start, end]` inclusive, undefined to ignore the header, or "unsatisfiable". */
export function parseRange(header: string, size: number): [number, number] | undefined | "unsatisfiable" {
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return undefined; // several ranges or another unit: RFC 9110 lets us send the whole file
  const [, first, last] = m;
  if (first === "" && last === "") return undefined;
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(first);
  if (start >= size) return "unsatisfiable";
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (end < start) return undefined;
  return [start, end];
}
