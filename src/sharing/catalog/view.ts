// Read-only views over catalog state, as the server consults them: the working-folder catalog
// (recipients with their own tokens and grants) and the reference server's YAML config (one
// optional token that sees every share).
import { nameKey } from "../protocol.js";
import {
  ACCESS_TOKEN_PREFIX,
  accessTokenMatches,
  DEFAULT_ACCESS_TOKEN_SECONDS,
  mintAccessToken,
  parseAccessToken,
} from "./oauth.js";
import { AddressRanges } from "./recipient-limits.js";
import type {
  Authentication,
  CatalogState,
  CatalogView,
  Principal,
  PrincipalLimits,
  RecipientEntry,
  ShareEntry,
} from "./state.js";
import { byNameKey, sortedByName } from "./state.js";
import { constantTimeEqual, tokenMatches, tokenRecipientId } from "./tokens.js";

/** The view of a working-folder catalog: each recipient sees the shares granted to it. */
export class StateView implements CatalogView {
  private readonly grantsByRecipient = new Map<string, Set<string>>();
  private readonly sharesByKey = new Map<string, ShareEntry>();
  /** Each limited recipient's limits, compiled once per state (not once per request). */
  private readonly limitsById = new Map<string, PrincipalLimits>();

  constructor(
    private readonly state: CatalogState,
    private readonly pepper: Buffer,
  ) {
    for (const share of state.shares) this.sharesByKey.set(nameKey(share.name), share);
    for (const r of state.recipients) {
      const limits: PrincipalLimits = {};
      if (r.allowedAddresses) limits.allowedAddresses = new AddressRanges(r.allowedAddresses);
      if (r.rateLimit) limits.rateLimit = r.rateLimit;
      if (r.allowedAddresses || r.rateLimit) this.limitsById.set(r.id, limits);
    }
    const idByRecipientKey = new Map(state.recipients.map((r) => [nameKey(r.name), r.id]));
    for (const grant of state.grants) {
      const id = idByRecipientKey.get(nameKey(grant.recipient));
      if (id === undefined) continue;
      const set = this.grantsByRecipient.get(id) ?? new Set<string>();
      this.grantsByRecipient.set(id, set);
      set.add(nameKey(grant.share));
    }
  }

  authenticate(token: string | undefined, now: number): Authentication {
    if (!token) return { ok: false, reason: "missing" };
    if (token.startsWith(ACCESS_TOKEN_PREFIX)) return this.authenticateAccessToken(token, now);
    const id = tokenRecipientId(token);
    const recipient = id === undefined ? undefined : this.state.recipients.find((r) => r.id === id);
    if (!recipient) return { ok: false, reason: "invalid" };
    const principal = this.principalOf(recipient);
    if (recipient.clientSecretHash !== undefined) return { ok: false, reason: "invalid" }; // OAuth only
    if (tokenMatches(this.pepper, token, recipient.tokenHash)) {
      if (recipient.expiresAt && Date.parse(recipient.expiresAt) <= now)
        return { ok: false, reason: "expired" };
      return { ok: true, principal };
    }
    if (recipient.previousTokenHash && tokenMatches(this.pepper, token, recipient.previousTokenHash)) {
      if (recipient.previousExpiresAt && Date.parse(recipient.previousExpiresAt) <= now) {
        return { ok: false, reason: "expired" };
      }
      return { ok: true, principal };
    }
    return { ok: false, reason: "invalid" };
  }

  private authenticateAccessToken(token: string, now: number): Authentication {
    const parsed = parseAccessToken(token);
    const recipient = parsed && this.state.recipients.find((r) => r.id === parsed.id);
    if (!parsed || !recipient?.clientSecretHash) return { ok: false, reason: "invalid" };
    // A token got with the previous secret works through a rotation's grace period (and no longer).
    const previous = recipient.previousClientSecretHash;
    const current = accessTokenMatches(this.pepper, parsed, recipient.clientSecretHash);
    if (!current && !(previous && accessTokenMatches(this.pepper, parsed, previous)))
      return { ok: false, reason: "invalid" };
    if (parsed.expiresAt <= now) return { ok: false, reason: "expired" };
    if (!current && recipient.previousExpiresAt && Date.parse(recipient.previousExpiresAt) <= now)
      return { ok: false, reason: "expired" };
    return { ok: true, principal: this.principalOf(recipient) };
  }

  private principalOf(recipient: RecipientEntry): Principal {
    const limits = this.limitsById.get(recipient.id);
    return limits
      ? { id: recipient.id, name: recipient.name, limits }
      : { id: recipient.id, name: recipient.name };
  }

  issueAccessToken(clientId: string, clientSecret: string, now: number) {
    const recipient = this.state.recipients.find((r) => r.id === clientId);
    if (!recipient?.clientSecretHash) return undefined;
    let secretHash = recipient.clientSecretHash;
    // The credentials' own expiry bounds every access token issued for them.
    let end = recipient.expiresAt ? Date.parse(recipient.expiresAt) : Number.POSITIVE_INFINITY;
    if (!tokenMatches(this.pepper, clientSecret, secretHash)) {
      const previous = recipient.previousClientSecretHash;
      if (!previous || !tokenMatches(this.pepper, clientSecret, previous)) return undefined;
      secretHash = previous;
      if (recipient.previousExpiresAt) end = Math.min(end, Date.parse(recipient.previousExpiresAt));
    }
    if (end <= now) return undefined;
    let expiresIn = recipient.accessTokenSeconds ?? DEFAULT_ACCESS_TOKEN_SECONDS;
    if (Number.isFinite(end)) expiresIn = Math.min(expiresIn, Math.floor((end - now) / 1000));
    const accessToken = mintAccessToken(this.pepper, recipient.id, secretHash, now + expiresIn * 1000);
    return { principal: this.principalOf(recipient), accessToken, expiresIn };
  }

  shares(principal: Principal): ShareEntry[] {
    const granted = this.grantsByRecipient.get(principal.id);
    if (!granted) return [];
    return sortedByName(this.state.shares.filter((share) => granted.has(nameKey(share.name))));
  }

  share(principal: Principal, name: string): ShareEntry | undefined {
    return this.canRead(principal.id, name) ? this.sharesByKey.get(nameKey(name)) : undefined;
  }

  principal(id: string): Principal | undefined {
    const recipient = this.state.recipients.find((r) => r.id === id);
    return recipient && this.principalOf(recipient);
  }

  canRead(principalId: string, shareName: string): boolean {
    const key = nameKey(shareName);
    return (this.grantsByRecipient.get(principalId)?.has(key) ?? false) && this.sharesByKey.has(key);
  }
}

/** The view of a reference-server YAML config: one token (or none) for every share. */
export class OpenView implements CatalogView {
  static readonly PRINCIPAL: Principal = { id: "config", name: "config" };

  constructor(
    private readonly shareList: ShareEntry[],
    private readonly bearerToken: string | undefined,
  ) {}

  authenticate(token: string | undefined): Authentication {
    if (this.bearerToken === undefined) return { ok: true, principal: OpenView.PRINCIPAL };
    if (!token) return { ok: false, reason: "missing" };
    if (!constantTimeEqual(token, this.bearerToken)) return { ok: false, reason: "invalid" };
    return { ok: true, principal: OpenView.PRINCIPAL };
  }

  shares(): ShareEntry[] {
    return sortedByName(this.shareList);
  }

  share(_principal: Principal, name: string): ShareEntry | undefined {
    return byNameKey(this.shareList, name);
  }

  canRead(principalId: string, shareName: string): boolean {
    return principalId === OpenView.PRINCIPAL.id && byNameKey(this.shareList, shareName) !== undefined;
  }
}
