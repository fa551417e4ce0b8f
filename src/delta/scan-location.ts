// Where a file named in the log lives: relative paths under the table, absolute ones as they are.
import { ArcuateError } from "../errors.js";
import { canonicalPath } from "./replay.js";
import { LocalStorage, type Storage } from "./storage.js";

const rootStorage = new LocalStorage("/");

/** The storage and path to read a data file from: relative paths from the table, absolute ones as they are. */
export function dataFileLocation(storage: Storage, path: string): { storage: Storage; path: string } {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path) && !path.startsWith("file:")) {
    throw new ArcuateError("UNSUPPORTED_FEATURE", `delta: data file on another file system: ${path}`);
  }
  const p = canonicalPath(path);
  if (p.startsWith("/")) return { storage: rootStorage, path: p.slice(1) };
  return { storage, path: p };
}
