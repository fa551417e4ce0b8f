// One request's audit record in the making: the server fills it in as it learns who asks, for
// what and what it handed out, and the record is queued to the audit log when the response is
// closed (finished or cut off). Nothing secret goes in: no token, no signed URL, no query string.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { isArcuateError } from "../../errors.js";
import type { Principal } from "../catalog/state.js";
import type { AccessRecord } from "./audit-log.js";
import type { HandedOut } from "./lines.js";

/** Operation names by route pattern (what SHOW ACCESS prints); others are named by their pattern. */
const OPERATIONS: Record<string, string> = {
  "GET shares": "listShares",
  "GET shares/:share": "getShare",
  "GET shares/:share/schemas": "listSchemas",
  "GET shares/:share/schemas/:schema/tables": "listTables",
  "GET shares/:share/all-tables": "listAllTables",
  "GET shares/:share/schemas/:schema/tables/:table/version": "version",
  "HEAD shares/:share/schemas/:schema/tables/:table": "version",
  "GET shares/:share/schemas/:schema/tables/:table/metadata": "metadata",
  "POST shares/:share/schemas/:schema/tables/:table/query": "query",
  "GET shares/:share/schemas/:schema/tables/:table/changes": "changes",
  "POST shares/:share/schemas/:schema/tables/:table/temporary-table-credentials": "temporaryCredentials",
};

export class AccessTrail {
  readonly record: AccessRecord;
  private readonly started: number;
  private handedOut: HandedOut | undefined;

  constructor(req: IncomingMessage, clientAddress: string | null, now = Date.now()) {
    this.started = performance.now();
    const agent = req.headers["user-agent"];
    this.record = {
      time: now,
      requestId: randomUUID(),
      recipient: null,
      recipientId: null,
      operation: "unknown",
      method: (req.method ?? "GET").toUpperCase(),
      share: null,
      schema: null,
      table: null,
      version: null,
      timestamp: null,
      startingVersion: null,
      endingVersion: null,
      startingTimestamp: null,
      endingTimestamp: null,
      files: 0,
      bytes: 0,
      status: 0,
      errorCode: null,
      clientAddress,
      userAgent: typeof agent === "string" ? agent.slice(0, 500) : null,
      durationMs: 0,
    };
  }

  principal(principal: Principal): void {
    this.record.recipient = principal.name;
    this.record.recipientId = principal.id;
  }

  operation(name: string): void {
    this.record.operation = name;
  }

  /** The matched route: its operation name and the share, schema and table it names. */
  route(method: string, pattern: string[], params: Record<string, string>): void {
    const key = `${method} ${pattern.join("/")}`;
    this.record.operation = OPERATIONS[key] ?? key;
    this.target(params.share, params.schema, params.table);
  }

  target(share: string | undefined, schema: string | undefined, table: string | undefined): void {
    if (share !== undefined) this.record.share = share.slice(0, 255);
    if (schema !== undefined) this.record.schema = schema.slice(0, 255);
    if (table !== undefined) this.record.table = table.slice(0, 255);
  }

  /** The version or range asked for, from query parameters or a query body, as given. */
  asked(source: URLSearchParams | Record<string, unknown>): void {
    const get = (key: string): unknown =>
      source instanceof URLSearchParams ? (source.get(key) ?? undefined) : source[key];
    const long = (key: string): number | null => {
      const v = get(key);
      const n = typeof v === "number" ? v : typeof v === "string" && /^\d{1,18}$/.test(v) ? Number(v) : NaN;
      return Number.isSafeInteger(n) ? n : null;
    };
    const text = (key: string): string | null => {
      const v = get(key);
      return typeof v === "string" ? v.slice(0, 64) : null;
    };
    const r = this.record;
    r.version ??= long("version");
    r.timestamp ??= text("timestamp");
    r.startingVersion ??= long("startingVersion");
    r.endingVersion ??= long("endingVersion");
    r.startingTimestamp ??= text("startingTimestamp");
    r.endingTimestamp ??= text("endingTimestamp");
  }

  /** The answer's running count of files and bytes handed out, read when the response closes. */
  counting(handedOut: HandedOut): void {
    this.handedOut = handedOut;
  }

  failed(error: unknown): void {
    this.record.errorCode = isArcuateError(error) ? error.code : "INTERNAL_ERROR";
  }

  /** The finished record, once the response is closed. */
  finish(res: ServerResponse): AccessRecord {
    this.record.status = res.statusCode;
    if (this.handedOut) {
      this.record.files += this.handedOut.files;
      this.record.bytes += this.handedOut.bytes;
      this.handedOut = undefined;
    }
    if (this.record.operation === "file" && this.record.method === "GET" && res.statusCode < 300) {
      // A download: one file, and the body's bytes when it was all sent. (With an audit trail the
      // response had a header set before writeHead, so getHeader sees writeHead's too.)
      this.record.files += 1;
      if (res.writableFinished) this.record.bytes += Number(res.getHeader("content-length") ?? 0);
    }
    if (!res.writableFinished && this.record.errorCode === null) this.record.errorCode = "ABORTED";
    this.record.durationMs = Math.round(performance.now() - this.started);
    return this.record;
  }
}
