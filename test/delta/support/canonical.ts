// Order-independent comparison of rows rendered as JSON (src/delta/json.ts) by arcuate and by
import { createHash } from "node:crypto";
// delta-rs: keys sorted, rows sorted.
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function canonicalRows(rows: unknown[]): string[] {
  return rows.map(canonical).sort();
}

/** Order-independent digest: sum of the first 8 bytes of each row's SHA-256, mod 2^64 (as deltars_read.py). */
export function digestRows(rows: Iterable<string>): { count: number; digest: string } {
  let total = 0n;
  let count = 0;
  for (const row of rows) {
    total =
      (total + createHash("sha256").update(row, "utf8").digest().readBigUInt64BE(0)) & 0xffffffffffffffffn;
    count += 1;
  }
  return { count, digest: total.toString(16).padStart(16, "0") };
}
