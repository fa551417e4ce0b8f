// How long a table keeps what it no longer uses: `delta.deletedFileRetentionDuration` (how long a
// `remove` tombstone, and so the file it names, must stay; Spark's default is one week). Written
// as Spark writes intervals: "interval 1 week", "interval 168 hours", "7 days".
import { ArcuateError } from "../errors.js";
import type { MetadataAction } from "./actions.js";

export const DEFAULT_DELETED_FILE_RETENTION_MS = 7 * 24 * 3_600_000;

const UNIT_MS: Record<string, number> = {
  millisecond: 1,
  second: 1000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
};

/** Milliseconds of a Spark interval string such as "interval 1 week" or "interval 2 days 12 hours". */
export function parseInterval(text: string, property: string): number {
  const body = text.trim().replace(/^interval\s+/i, "");
  if (!/^(\d+(\.\d+)?\s*[a-z]+\s*)+$/i.test(body)) throw invalid(text, property);
  let ms = 0;
  for (const [, amount, unit] of body.matchAll(/(\d+(?:\.\d+)?)\s*([a-z]+)/gi)) {
    const per = UNIT_MS[unit!.toLowerCase().replace(/s$/, "")];
    if (per === undefined) throw invalid(text, property);
    ms += Number(amount) * per;
  }
  return ms;
}

function invalid(text: string, property: string): ArcuateError {
  return new ArcuateError(
    "INVALID_PARAMETER_VALUE",
    `delta: ${property} must be an interval such as 'interval 1 week', not '${text.slice(0, 60)}'`,
  );
}

/** The table's tombstone retention, from its configuration (default one week). */
export function deletedFileRetentionMs(metadata: MetadataAction): number {
  const raw = metadata.configuration?.["delta.deletedFileRetentionDuration"];
  return raw === undefined || raw === null
    ? DEFAULT_DELETED_FILE_RETENTION_MS
    : parseInterval(raw, "delta.deletedFileRetentionDuration");
}
