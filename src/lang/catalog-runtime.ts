// The provider's catalog steps: shares, recipients and grants, and what SHOW and DESCRIBE read of
// them (src/sharing/catalog). Exports into a share are the exchange's steps (exchange-runtime.ts).
import { DeltaTable } from "../delta/index.js";
import { ArcuateError } from "../errors.js";
import type { ShareDetailsChange } from "../sharing/catalog/catalog.js";
import {
  describeLimits,
  describeRateLimit,
  type RecipientLimitsChange,
} from "../sharing/catalog/recipient-limits.js";
import type { Runtime } from "./runtime.js";
import { openCatalog } from "./runtime-clients.js";
import { showAccess } from "./show-access.js";

export type CatalogSteps = Pick<
  Runtime,
  | "createShare"
  | "dropShare"
  | "createRecipient"
  | "dropRecipient"
  | "alterRecipient"
  | "grant"
  | "revoke"
  | "showShares"
  | "showRecipients"
  | "showGrants"
  | "showAccess"
  | "showTables"
  | "describeShare"
  | "describeRecipient"
  | "describeHistory"
  | "alterShareDetails"
  | "removeFromShare"
>;

/** The catalog steps, each opening the catalog of its statement's working folder. */
export function catalogSteps(): CatalogSteps {
  return {
    async createShare(args) {
      const catalog = await openCatalog(args.workDir);
      const existed = (await catalog.listShares()).some(
        (s) => s.name.toLowerCase() === args.share.toLowerCase(),
      );
      await catalog.createShare(args.share, {
        ifNotExists: args.ifNotExists,
        ...(args.comment ? { comment: args.comment } : {}),
      });
      return existed ? `share ${args.share} already exists` : `created share ${args.share}`;
    },
    async dropShare(args) {
      const dropped = await (await openCatalog(args.workDir)).dropShare(args.share, {
        ifExists: args.ifExists,
      });
      return dropped ? `dropped share ${args.share}` : `share ${args.share} does not exist`;
    },
    async createRecipient(args) {
      const catalog = await openCatalog(args.workDir);
      if (
        args.ifNotExists &&
        (await catalog.listRecipients()).some((r) => r.name.toLowerCase() === args.recipient.toLowerCase())
      ) {
        return `recipient ${args.recipient} already exists (its credentials are not shown again)`;
      }
      const options = args.comment ? { comment: args.comment } : {};
      if (args.activationLink) {
        const link = await catalog.createRecipientWithActivationLink(args.recipient, {
          ...options,
          ...(args.oauth ? { oauth: {} } : {}),
        });
        return `created recipient ${args.recipient}; its one-time activation link (shown once, valid until ${link.expiresAt}; the recipient downloads its profile from it) is:\n${link.url}`;
      }
      const created = args.oauth
        ? await catalog.createOAuthRecipient(args.recipient, options)
        : await catalog.createRecipient(args.recipient, options);
      const secret = args.oauth ? "the client secret" : "the token";
      return [
        `created recipient ${args.recipient}; its profile (shown once, ${secret} is not stored) is at ${created.profilePath}:`,
        JSON.stringify(created.profile, null, 2),
      ].join("\n");
    },
    async dropRecipient(args) {
      const dropped = await (await openCatalog(args.workDir)).dropRecipient(args.recipient, {
        ifExists: args.ifExists,
      });
      return dropped ? `dropped recipient ${args.recipient}` : `recipient ${args.recipient} does not exist`;
    },
    async alterRecipient(args) {
      const change: RecipientLimitsChange = {};
      if (args.allowedAddresses !== undefined) change.allowedAddresses = args.allowedAddresses;
      if (args.rateLimit !== undefined) change.rateLimit = args.rateLimit;
      return describeLimits(await (await openCatalog(args.workDir)).alterRecipient(args.recipient, change));
    },
    async grant(args) {
      await (await openCatalog(args.workDir)).grant(args.share, args.recipient);
      return `granted SELECT on share ${args.share} to recipient ${args.recipient}`;
    },
    async revoke(args) {
      const revoked = await (await openCatalog(args.workDir)).revoke(args.share, args.recipient);
      return revoked
        ? `revoked SELECT on share ${args.share} from recipient ${args.recipient}`
        : `recipient ${args.recipient} had no grant on share ${args.share}`;
    },
    async showShares(args) {
      const shares = await (await openCatalog(args.workDir)).listShares();
      return {
        title: "shares",
        columns: ["share", "tables", "recipients", "comment", "created"],
        rows: shares.map((s) => [
          s.name,
          s.tables.length,
          s.recipients.join(", "),
          s.comment ?? null,
          s.createdAt,
        ]),
      };
    },
    async showRecipients(args) {
      const recipients = await (await openCatalog(args.workDir)).listRecipients();
      return {
        title: "recipients",
        columns: ["recipient", "shares", "comment", "created", "expires"],
        rows: recipients.map((r) => [
          r.name,
          r.shares.join(", "),
          r.comment ?? null,
          r.createdAt,
          r.expiresAt ?? null,
        ]),
      };
    },
    async showGrants(args) {
      const grants = await (await openCatalog(args.workDir)).listGrants({
        ...(args.share ? { share: args.share } : {}),
        ...(args.recipient ? { recipient: args.recipient } : {}),
      });
      return {
        title: "grants",
        columns: ["share", "recipient", "granted"],
        rows: grants.map((g) => [g.share, g.recipient, g.grantedAt]),
      };
    },
    async showAccess(args) {
      return showAccess(await openCatalog(args.workDir), args);
    },
    async showTables(args) {
      const share = await (await openCatalog(args.workDir)).getShare(args.share);
      return {
        title: `tables in share ${share.name}`,
        columns: ["schema", "table", "location"],
        rows: share.tables.map((t) => [t.schema, t.name, t.location]),
      };
    },
    async describeShare(args) {
      const share = await (await openCatalog(args.workDir)).getShare(args.share);
      const rows: unknown[][] = [];
      for (const t of share.tables) {
        const snapshot = await (await DeltaTable.open(t.location)).snapshot();
        rows.push([
          t.schema,
          t.name,
          snapshot.version,
          snapshot.numRecords ?? null,
          snapshot.metadata.configuration["arcuate.kind"] ?? null,
          new Date(snapshot.timestamp).toISOString(),
        ]);
      }
      return {
        title: `share ${share.name}${share.comment ? ` — ${share.comment}` : ""} (recipients: ${share.recipients.join(", ") || "none"})`,
        columns: ["schema", "table", "version", "rows", "kind", "updated"],
        rows,
      };
    },
    async describeRecipient(args) {
      const recipient = (await (await openCatalog(args.workDir)).listRecipients()).find(
        (r) => r.name.toLowerCase() === args.recipient.toLowerCase(),
      );
      if (!recipient)
        throw new ArcuateError(
          "RESOURCE_DOES_NOT_EXIST",
          `catalog: recipient '${args.recipient}' does not exist`,
        );
      return {
        title: `recipient ${recipient.name}`,
        columns: ["property", "value"],
        rows: [
          ["name", recipient.name],
          ["shares", recipient.shares.join(", ")],
          ["comment", recipient.comment ?? null],
          ["created", recipient.createdAt],
          ["expires", recipient.expiresAt ?? "never"],
          [
            "credentials",
            recipient.oauth
              ? `OAuth client credentials (access tokens last ${recipient.oauth.accessTokenSeconds} s)`
              : "bearer token",
          ],
          ["allowed addresses", recipient.allowedAddresses?.join(", ") ?? "any"],
          ["rate limit", recipient.rateLimit ? describeRateLimit(recipient.rateLimit) : "none of its own"],
        ],
      };
    },
    async describeHistory(args) {
      const share = await (await openCatalog(args.workDir)).getShare(args.share);
      const entry = share.tables.find(
        (t) =>
          t.schema.toLowerCase() === args.schema.toLowerCase() &&
          t.name.toLowerCase() === args.table.toLowerCase(),
      );
      if (!entry)
        throw new ArcuateError(
          "RESOURCE_DOES_NOT_EXIST",
          `catalog: table '${args.share}.${args.schema}.${args.table}' does not exist`,
        );
      const history = await (await DeltaTable.open(entry.location)).history();
      return {
        title: `history of ${args.share}.${args.schema}.${args.table}`,
        columns: ["version", "timestamp", "operation", "rows written", "export"],
        rows: history.map((c) => [
          c.version,
          new Date(c.timestamp).toISOString(),
          c.operation ?? null,
          (c.commitInfo?.operationMetrics as Record<string, string> | undefined)?.numOutputRows ?? null,
          (c.commitInfo as Record<string, unknown> | undefined)?.["arcuate.exportSeq"] ?? null,
        ]),
      };
    },
    async alterShareDetails(args) {
      const change: ShareDetailsChange = {};
      if (args.displayName !== undefined) change.displayName = args.displayName;
      if (args.comment !== undefined) change.comment = args.comment;
      if (args.properties !== undefined) change.properties = args.properties;
      const info = await (await openCatalog(args.workDir)).alterShare(args.share, change);
      const props = Object.keys(info.properties ?? {}).length;
      return `share ${info.name}: display name ${info.displayName === undefined ? "not set" : `'${info.displayName}'`}, ${props} ${props === 1 ? "property" : "properties"}`;
    },
    async removeFromShare(args) {
      const catalog = await openCatalog(args.workDir);
      const share = await catalog.getShare(args.share);
      const tables = share.tables.filter((t) => t.schema.toLowerCase() === args.schema.toLowerCase());
      if (tables.length === 0)
        throw new ArcuateError(
          "RESOURCE_DOES_NOT_EXIST",
          `catalog: share '${args.share}' has no schema '${args.schema}'`,
        );
      for (const t of tables) await catalog.removeTable(args.share, t.schema, t.name);
      return `removed ${args.schema} (${tables.length} tables) from share ${args.share}`;
    },
  };
}
