// Asynchronous queries (#asyncquery, #get-query-info). A client that sends `asyncquery=true` with
// a query gets one `queryStatus` line carrying a queryId, then polls
// `POST …/tables/{t}/queries/{queryId}` for the answer, paged like a synchronous one.
//
// The queryId is the query itself, signed: the checked body, the snapshot version resolved at
// submission and an expiry, under an HMAC bound to the recipient and the table. So any server
// behind a load balancer answers a poll, a poll always sees the snapshot of its submission, and
// an edited or foreign queryId is refused like an unknown one (404). Retried submissions with the
// same idempotency key map to the same queryId on the server that took the first one (a small
// in-memory map; behind a load balancer a retry that lands elsewhere gets a new queryId for an
// equal answer, which is harmless for a read). A body too large for a queryId is answered
// synchronously, which the protocol allows.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { NotFoundError } from "../../errors.js";
import { CAPABILITIES_HEADER, type Capabilities, nameKey, TABLE_VERSION_HEADER } from "../protocol.js";
import { badRequest } from "./http.js";
import { type Prepared, prepareQuery, type QueryBody, type ServedTable } from "./query.js";

/** How long a queryId can be polled. */
const QUERY_TTL_MS = 3_600_000;
/** Longest queryId handed out; larger queries are answered synchronously. */
const MAX_QUERY_ID_CHARS = 6000;
/** Idempotency keys remembered at once; the oldest are forgotten first. */
const MAX_REMEMBERED_KEYS = 10_000;

interface QueryPayload {
  /** The submitted body, without paging and idempotency fields. */
  b: QueryBody;
  /** Snapshot version (or streaming end) pinned at submission; absent when the body names one. */
  v?: number;
  /** Expiry, epoch ms. */
  e: number;
}

export class AsyncQueries {
  /** (recipient, table, key) → the submission's checksum and queryId. */
  private readonly keys = new Map<string, { checksum: string; queryId: string; expires: number }>();

  constructor(private readonly key: Buffer) {}

  /**
   * Answers an `asyncquery=true` submission: every check a synchronous query makes happens now
   * (a bad request still fails with its status), then one `queryStatus` line. Returns undefined
   * when the query is better answered synchronously.
   */
  async submit(t: ServedTable, caps: Capabilities, body: QueryBody): Promise<Prepared | undefined> {
    if (body.pageToken !== undefined || body.refreshToken !== undefined) return undefined;
    const { idempotencyKey, maxFiles: _m, includeRefreshToken: _i, ...params } = body;
    const checksum = createHash("sha256").update(JSON.stringify(params)).digest("base64url");
    const remembered =
      idempotencyKey === undefined ? undefined : this.remembered(t, idempotencyKey, checksum);
    let queryId = remembered;
    let version: number;
    let probe: Prepared;
    if (queryId !== undefined) {
      const payload = this.verify(t, queryId);
      probe = await prepareQuery(t, caps, payload.b, payload.v);
      version = Number(probe.headers[TABLE_VERSION_HEADER]);
    } else {
      const pin = await pinFor(t, params);
      probe = await prepareQuery(t, caps, params, pin);
      version = Number(probe.headers[TABLE_VERSION_HEADER]);
      const payload: QueryPayload = { b: params, e: t.now + QUERY_TTL_MS };
      if (pin !== undefined) payload.v = pin;
      queryId = this.sign(t, payload);
      if (queryId.length > MAX_QUERY_ID_CHARS) return undefined;
      if (idempotencyKey !== undefined) this.remember(t, idempotencyKey, checksum, queryId, payload.e);
    }
    const id = queryId;
    const format = probe.headers[CAPABILITIES_HEADER] ?? "responseformat=parquet";
    return {
      headers: {
        "Content-Type": probe.headers["Content-Type"] ?? "application/x-ndjson; charset=utf-8",
        [TABLE_VERSION_HEADER]: String(version),
        [CAPABILITIES_HEADER]: `${format.replace(/;?includeendstreamaction=[a-z]+/, "")};asyncquery=true`,
      },
      lines: function* () {
        yield { queryStatus: { queryId: id, status: "pending" } };
      },
    };
  }

  /** Get Query Info: the answer of the submitted query, paged by the poll's maxFiles/pageToken. */
  async info(
    t: ServedTable,
    caps: Capabilities,
    queryId: string,
    poll: Record<string, unknown>,
  ): Promise<Prepared> {
    const payload = this.verify(t, queryId);
    if (poll.queryId !== undefined && poll.queryId !== null && poll.queryId !== queryId)
      throw badRequest("sharing: the body's queryId differs from the one in the path");
    const body: QueryBody = { ...payload.b };
    const maxFiles = poll.maxFiles;
    if (maxFiles !== undefined && maxFiles !== null) {
      if (typeof maxFiles !== "number" || !Number.isSafeInteger(maxFiles) || maxFiles < 1)
        throw badRequest("sharing: 'maxFiles' must be a positive integer", "MALFORMED_REQUEST");
      body.maxFiles = maxFiles;
    }
    const pageToken = poll.pageToken;
    if (pageToken !== undefined && pageToken !== null && pageToken !== "") {
      if (typeof pageToken !== "string")
        throw badRequest("sharing: 'pageToken' must be a string", "MALFORMED_REQUEST");
      body.pageToken = pageToken;
    }
    return prepareQuery(t, caps, body, payload.v);
  }

  private remembered(t: ServedTable, key: string, checksum: string): string | undefined {
    const slot = this.keys.get(keySlot(t, key));
    if (!slot || slot.expires <= t.now) return undefined;
    if (slot.checksum !== checksum) {
      throw badRequest(
        "sharing: this idempotencyKey was used for a different query of this table; use a new key for a new query",
      );
    }
    return slot.queryId;
  }

  private remember(t: ServedTable, key: string, checksum: string, queryId: string, expires: number): void {
    for (const [k, slot] of this.keys) {
      if (this.keys.size < MAX_REMEMBERED_KEYS && slot.expires > t.now) break;
      this.keys.delete(k);
    }
    this.keys.set(keySlot(t, key), { checksum, queryId, expires });
  }

  private sign(t: ServedTable, payload: QueryPayload): string {
    const data = Buffer.from(JSON.stringify(payload), "utf8").toString("base64url");
    return `${data}.${this.mac(t, data)}`;
  }

  private verify(t: ServedTable, queryId: string): QueryPayload {
    const unknown = () =>
      new NotFoundError(`sharing: query '${queryId.slice(0, 40)}' is unknown or has expired`);
    const dot = queryId.lastIndexOf(".");
    if (dot < 0 || queryId.length > MAX_QUERY_ID_CHARS) throw unknown();
    const data = queryId.slice(0, dot);
    const given = Buffer.from(queryId.slice(dot + 1), "base64url");
    const expected = Buffer.from(this.mac(t, data), "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw unknown();
    const payload = JSON.parse(Buffer.from(data, "base64url").toString("utf8")) as QueryPayload;
    if (payload.e <= t.now) throw unknown();
    return payload;
  }

  private mac(t: ServedTable, data: string): string {
    return createHmac("sha256", this.key)
      .update(`asyncquery\n${t.principalId}\n${tableKey(t)}\n${data}`)
      .digest("base64url");
  }
}

function tableKey(t: ServedTable): string {
  return `${nameKey(t.share)}\n${nameKey(t.schema)}\n${nameKey(t.entry.name)}`;
}

function keySlot(t: ServedTable, key: string): string {
  return `${t.principalId}\n${tableKey(t)}\n${key}`;
}

/** The version a poll must see: the latest snapshot now, or the streaming range's end now. */
async function pinFor(t: ServedTable, body: QueryBody): Promise<number | undefined> {
  if (body.version !== undefined || body.timestamp !== undefined) return undefined;
  const latest = (await t.tables.latest(t.entry.location)).version;
  if (body.startingVersion !== undefined) return Math.min(body.endingVersion ?? latest, latest);
  return latest;
}
