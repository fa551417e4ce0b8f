// SHOW ACCESS: the provider's audit log (src/sharing/server/audit-log.ts) as a table, newest
// first, filtered by share, recipient and time. The log is the Delta table `audit/` of the
// catalog's folder, where `arcuate serve` keeps it.
import { join } from "node:path";
import { NotFoundError } from "../errors.js";
import type { Catalog } from "../sharing/catalog/catalog.js";
import { readAccessLog, sinceTime } from "../sharing/server/audit-table.js";
import type { ShowAccessArgs } from "./plan.js";
import type { TableOutput } from "./runtime.js";

const SHOWN = 1000;

export async function showAccess(catalog: Catalog, args: ShowAccessArgs): Promise<TableOutput> {
  let recipientId: string | undefined;
  if (args.recipient !== null) {
    const key = args.recipient.toLowerCase();
    const found = (await catalog.listRecipients()).find((r) => r.name.toLowerCase() === key);
    if (!found) throw new NotFoundError(`catalog: recipient '${args.recipient}' does not exist`);
    recipientId = found.id;
  }
  const since = args.since === null ? undefined : sinceTime(args.since, Date.now());
  const { rows, matched } = await readAccessLog(join(catalog.dir, "audit"), {
    ...(args.share === null ? {} : { share: args.share }),
    ...(recipientId === undefined ? {} : { recipientId }),
    ...(since === undefined ? {} : { since }),
    limit: SHOWN,
  });
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    title: "access",
    columns: [
      "time",
      "recipient",
      "operation",
      "table",
      "asked",
      "files",
      "bytes",
      "status",
      "client",
      "request id",
    ],
    rows: rows.map((r) => [
      new Date(r.time as number).toISOString(),
      text(r.recipient),
      r.operation,
      [r.share, r.schema, r.table].filter((p) => p !== null && p !== undefined).join(".") || null,
      asked(r),
      Number(r.files),
      Number(r.bytes),
      r.status,
      text(r.client_address),
      r.request_id,
    ]),
    ...(matched > rows.length ? { totalRows: matched } : {}),
  };
}

/** The version or range a request asked for, in a few words ("version 3", "versions 2–5"). */
function asked(r: Record<string, unknown>): string | null {
  const n = (k: string) => (r[k] === null || r[k] === undefined ? undefined : String(r[k]));
  if (n("version") !== undefined) return `version ${n("version")}`;
  if (n("timestamp") !== undefined) return `as of ${n("timestamp")}`;
  const from = n("starting_version") ?? n("starting_timestamp");
  const to = n("ending_version") ?? n("ending_timestamp");
  if (from !== undefined || to !== undefined) return `changes ${from ?? "…"} to ${to ?? "latest"}`;
  return null;
}
