// Listing pages (`maxResults`, `pageToken`, `nextPageToken`). A page token carries the key of the
// last item returned and an HMAC over (recipient, listing, key), so a token only works for the
// recipient and the listing it was issued for, and a forged or edited token is refused without
// revealing anything. Keys are name keys, so a listing that changes between pages neither repeats
// nor skips the items that stayed.
import { createHmac, timingSafeEqual } from "node:crypto";
import { nameKey } from "../protocol.js";
import { badRequest } from "./http.js";

export const DEFAULT_MAX_RESULTS_CAP = 500;

export interface PageRequest {
  maxResults: number;
  after?: string;
}

export class PageTokens {
  constructor(
    private readonly key: Buffer,
    readonly cap: number = DEFAULT_MAX_RESULTS_CAP,
  ) {}

  /** Parses `maxResults` (clamped to the cap) and `pageToken` (checked) from a listing request. */
  request(query: URLSearchParams, principalId: string, listing: string): PageRequest {
    const raw = query.get("maxResults");
    let maxResults = this.cap;
    if (raw !== null) {
      if (!/^\d{1,10}$/.test(raw))
        throw badRequest(`sharing: maxResults must be a non-negative integer, not '${raw.slice(0, 40)}'`);
      maxResults = Math.min(Number(raw), this.cap);
    }
    const token = query.get("pageToken");
    if (token === null || token === "") return { maxResults };
    return { maxResults, after: this.verify(token, principalId, listing) };
  }

  page<T extends { name: string }>(
    items: T[],
    request: PageRequest,
    principalId: string,
    listing: string,
  ): { items: T[]; nextPageToken?: string } {
    const after = request.after;
    const rest = after === undefined ? items : items.filter((item) => nameKey(item.name) > after);
    const page = rest.slice(0, request.maxResults);
    if (rest.length <= page.length) return { items: page };
    const last = page.length > 0 ? nameKey(page[page.length - 1]!.name) : (after ?? "");
    return { items: page, nextPageToken: this.sign(principalId, listing, last) };
  }

  sign(principalId: string, listing: string, after: string): string {
    const payload = Buffer.from(after, "utf8").toString("base64url");
    return `${payload}.${this.mac(principalId, listing, payload)}`;
  }

  /** The payload of a token issued by `sign` for this principal and listing; 400 otherwise. */
  verify(token: string, principalId: string, listing: string): string {
    const dot = token.lastIndexOf(".");
    const invalid = () => badRequest("sharing: pageToken is not valid for this listing");
    if (dot < 0 || token.length > 2048) throw invalid();
    const payload = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), "base64url");
    const expected = Buffer.from(this.mac(principalId, listing, payload), "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    return Buffer.from(payload, "base64url").toString("utf8");
  }

  private mac(principalId: string, listing: string, payload: string): string {
    return createHmac("sha256", this.key)
      .update(`page\n${principalId}\n${listing}\n${payload}`)
      .digest("base64url");
  }
}
