// The provider's commands: `arcuate serve`, `arcuate share …`, `arcuate recipient …`,
// `arcuate grant|revoke`. Each works on the catalog in arcuate's working folder (`--workdir`,
// else $ARCUATE_WORKDIR, else the current folder: src/workdir.ts), the same folder `arcuate run`
// and the kernel use; a running server picks up changes without a restart.
import { join } from "node:path";
import { Command } from "commander";
import { ArcuateError } from "../errors.js";
import { resolveWorkDir, retiredVariablesWarning, workDirOption } from "../workdir.js";
import {
  Catalog,
  DEFAULT_ENDPOINT,
  type OAuthRecipientCredentials,
  type RateLimit,
  type RecipientCredentials,
} from "./catalog/catalog.js";
import { resolveCatalogLocation, withCatalogOption } from "./catalog/location.js";
import {
  checkRateLimit,
  describeLimits,
  describeRateLimit,
  normaliseAddressRange,
  RATE_UNITS,
} from "./catalog/recipient-limits.js";
import { startSharingServer } from "./server/server.js";

export interface CommandIo {
  out: (text: string) => void;
}

const stdoutIo: CommandIo = { out: (text) => process.stdout.write(text) };

const dirOption = workDirOption;
const openCatalog = (options: { workdir?: string; catalog?: string }) => {
  const warning = retiredVariablesWarning();
  if (warning) process.stderr.write(`${warning}\n`);
  const workDir = resolveWorkDir(options.workdir);
  return Catalog.open(resolveCatalogLocation(options.catalog, workDir), { workDir });
};

export function sharingServerCommands(io: CommandIo = stdoutIo): Command[] {
  return withCatalogOption([
    serveCommand(io),
    shareCommand(io),
    recipientCommand(io),
    grantCommand(io, "grant"),
    grantCommand(io, "revoke"),
  ]);
}

function serveCommand(io: CommandIo): Command {
  return new Command("serve")
    .description(
      "serve the catalog's shares (or a reference-server YAML config) over the Delta Sharing protocol",
    )
    .addOption(dirOption())
    .option("--config <file>", "a reference Delta Sharing server YAML config, served read-only")
    .option("--host <host>", "address to listen on (default: the config's, else 127.0.0.1)")
    .option("--port <port>", "port to listen on (default: the config's, else 8080)", parsePort)
    .option("--endpoint <path>", "URL path prefix (default: the config's, else /delta-sharing)")
    .option(
      "--public-url <url>",
      "origin recipients reach, e.g. https://sharing.example.com behind a TLS proxy",
    )
    .option("--url-ttl <seconds>", "lifetime of pre-signed file URLs (default 3600)", parsePositive)
    .option(
      "--audit <location>",
      "audit log Delta table of recipient requests (default: audit/ in the catalog folder)",
    )
    .option("--no-audit", "keep no audit log")
    .option("--audit-retention-days <days>", "days of audit records kept (default: all)", parsePositive)
    .option(
      "--trusted-proxy <cidr>",
      "a reverse proxy's address range whose X-Forwarded-For names the client (repeatable; default: none, the header is ignored)",
      collectRanges,
    )
    .option(
      "--rate-limit <rate>",
      "rate limit of recipients without one of their own, e.g. 600/minute (default: none)",
      parseRateLimit,
    )
    .action(
      async (options: {
        workdir?: string;
        config?: string;
        host?: string;
        port?: number;
        endpoint?: string;
        publicUrl?: string;
        urlTtl?: number;
        audit?: string | false;
        auditRetentionDays?: number;
        trustedProxy?: string[];
        rateLimit?: RateLimit;
      }) => {
        const catalog = options.config ? undefined : await openCatalog(options);
        const auditLocation =
          options.audit === false
            ? undefined
            : (options.audit ?? (catalog ? join(catalog.dir, "audit") : undefined));
        const server = await startSharingServer({
          ...(catalog ? { catalog } : { configFile: options.config! }),
          ...(options.host === undefined ? {} : { host: options.host }),
          port: options.port ?? (options.config ? undefined : 8080),
          ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
          ...(options.publicUrl === undefined ? {} : { publicUrl: options.publicUrl }),
          ...(options.urlTtl === undefined ? {} : { preSignedUrlTimeoutSeconds: options.urlTtl }),
          ...(options.trustedProxy === undefined ? {} : { trustedProxies: options.trustedProxy }),
          ...(options.rateLimit === undefined ? {} : { defaultRateLimit: options.rateLimit }),
          ...(auditLocation === undefined
            ? {}
            : {
                audit: {
                  location: auditLocation,
                  ...(options.auditRetentionDays === undefined
                    ? {}
                    : { retentionDays: options.auditRetentionDays }),
                },
              }),
        });
        let shares: string[];
        if (catalog) {
          for (const line of await recordEndpoint(catalog, server.url, {
            publicUrl: options.publicUrl !== undefined,
            everywhere: server.host === "0.0.0.0" || server.host === "::",
          }))
            io.out(`arcuate: ${line}\n`);
          shares = (await catalog.listShares()).map(
            (s) =>
              `${s.name} (${plural(s.tables.length, "table")}, ${plural(s.recipients.length, "recipient")})`,
          );
        } else {
          shares = ["as configured in " + options.config];
        }
        io.out(`arcuate: serving Delta Sharing at ${server.url}\n`);
        io.out(
          `arcuate: shares: ${shares.length > 0 ? shares.join(", ") : "none yet (arcuate share create …)"}\n`,
        );
        if (catalog) io.out(`arcuate: catalog: ${catalog.statePath} (changes apply without a restart)\n`);
        if (auditLocation) io.out(`arcuate: audit log: ${auditLocation} (SHOW ACCESS)\n`);
        const stop = () => {
          void server.close().finally(() => process.exit(0));
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      },
    );
}

/**
 * Makes the endpoint written into new profiles the one this server serves, and says so when
 * profiles issued earlier name another (a recipient holding one gets connection errors, or a 401
 * from whatever else listens there). A loopback endpoint can only have come from an earlier local
 * `serve` or the default, so it follows the server; one set by --public-url is kept (a proxy may
 * forward it here) and only reported. Returns the lines to print.
 */
async function recordEndpoint(
  catalog: Catalog,
  serving: string,
  how: { publicUrl: boolean; everywhere: boolean },
): Promise<string[]> {
  const recorded = (await catalog.state()).endpoint;
  const previous = recorded ?? DEFAULT_ENDPOINT;
  const recipients = (await catalog.listRecipients()).map((r) => r.name);
  const reissue =
    recipients.length === 0
      ? ""
      : `; the profiles issued before (${recipients.join(", ")}) name ${previous}: re-issue them with 'arcuate recipient rotate <name>'`;
  if (how.publicUrl) {
    if (recorded !== serving) await catalog.setEndpoint(serving);
    return previous === serving ? [] : [`profiles now name ${serving} (--public-url)${reissue}`];
  }
  if (how.everywhere) {
    return [
      "listening on all interfaces; give --public-url so that profiles and file URLs name an address recipients reach",
    ];
  }
  if (recorded !== undefined && !isLoopback(recorded)) {
    return recorded === serving
      ? []
      : [
          `profiles name ${recorded} (set by --public-url), this server listens at ${serving}: make sure ${recorded} reaches it, or give --public-url <url>`,
        ];
  }
  if (recorded !== serving) await catalog.setEndpoint(serving);
  return previous === serving
    ? []
    : [`profiles now name ${serving} (give --public-url <url> for an address recipients reach)${reissue}`];
}

function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === "localhost" || host === "[::1]" || /^127\./.test(host);
  } catch {
    return false;
  }
}

function shareCommand(io: CommandIo): Command {
  const share = new Command("share").description("manage shares and the tables in them");
  share
    .command("create <name>")
    .description("create a share")
    .addOption(dirOption())
    .option("--comment <text>", "a comment, served to recipients with the share")
    .option("--if-not-exists", "do nothing when the share exists")
    .action(async (name: string, options: { workdir?: string; comment?: string; ifNotExists?: boolean }) => {
      const catalog = await openCatalog(options);
      const info = await catalog.createShare(name, {
        ...(options.comment === undefined ? {} : { comment: options.comment }),
        ifNotExists: options.ifNotExists === true,
      });
      io.out(`share ${info.name} (${info.id})\n`);
    });
  share
    .command("add <share> <schema.table> <location>")
    .description("add the Delta table at <location> to a share as schema.table")
    .addOption(dirOption())
    .option("--no-history", "refuse time travel and the change data feed on this table")
    .option("--replace", "point an existing entry at this location")
    .action(
      async (
        shareName: string,
        qualified: string,
        location: string,
        options: { workdir?: string; history: boolean; replace?: boolean },
      ) => {
        const [schema, table] = splitQualified(qualified);
        const catalog = await openCatalog(options);
        const info = await catalog.addTable(shareName, schema, table, location, {
          historyShared: options.history,
          replace: options.replace === true,
        });
        io.out(`added ${info.share}.${info.schema}.${info.name} → ${info.location}\n`);
      },
    );
  share
    .command("remove <share> <schema.table>")
    .description("remove a table from a share (the table's data stays where it is)")
    .addOption(dirOption())
    .action(async (shareName: string, qualified: string, options: { workdir?: string }) => {
      const [schema, table] = splitQualified(qualified);
      await (await openCatalog(options)).removeTable(shareName, schema, table);
      io.out(`removed ${shareName}.${schema}.${table}\n`);
    });
  share
    .command("drop <name>")
    .description("drop a share and its grants")
    .addOption(dirOption())
    .option("--if-exists", "do nothing when the share does not exist")
    .action(async (name: string, options: { workdir?: string; ifExists?: boolean }) => {
      const dropped = await (await openCatalog(options)).dropShare(name, {
        ifExists: options.ifExists === true,
      });
      io.out(dropped ? `dropped share ${name}\n` : `no share ${name}\n`);
    });
  share
    .command("list")
    .description("list shares with their tables and recipients")
    .addOption(dirOption())
    .option("--json", "print JSON")
    .action(async (options: { workdir?: string; json?: boolean }) => {
      const shares = await (await openCatalog(options)).listShares();
      if (options.json) {
        io.out(`${JSON.stringify(shares, null, 2)}\n`);
        return;
      }
      if (shares.length === 0) io.out("no shares\n");
      for (const s of shares) {
        io.out(
          `${s.name}${s.comment ? ` — ${s.comment}` : ""}  (recipients: ${s.recipients.join(", ") || "none"})\n`,
        );
        for (const t of s.tables)
          io.out(`  ${t.schema}.${t.name}  ${t.location}${t.historyShared ? "" : "  (no history)"}\n`);
      }
    });
  return share;
}

function recipientCommand(io: CommandIo): Command {
  const recipient = new Command("recipient").description("manage recipients and their bearer tokens");
  const tokenOptions = (cmd: Command) =>
    cmd
      .addOption(dirOption())
      .option("--expires-in <duration>", "token lifetime, e.g. 3600, 90m, 12h, 30d", parseDuration)
      .option("--expires-at <time>", "token expiry as an ISO 8601 time")
      .option("--endpoint <url>", "server URL written into the profile (default: the catalog's)");
  tokenOptions(
    recipient
      .command("create <name>")
      .description("create a recipient; prints its token once and writes its profile file"),
  )
    .option("--comment <text>", "a comment shown to the provider")
    .option("--oauth", "OAuth 2.0 client credentials (a client id and secret) instead of a bearer token")
    .option(
      "--access-token-lifetime <duration>",
      "with --oauth: how long each access token lasts, e.g. 3600, 15m (default 1h)",
      parseDuration,
    )
    .option("--activation-link", "print a one-time link to the profile instead of the profile")
    .option(
      "--link-expires-in <duration>",
      "with --activation-link: how long the link works (default 7d)",
      parseDuration,
    )
    .action(
      async (
        name: string,
        options: TokenCliOptions & {
          comment?: string;
          oauth?: boolean;
          accessTokenLifetime?: number;
          activationLink?: boolean;
          linkExpiresIn?: number;
        },
      ) => {
        if (options.accessTokenLifetime !== undefined && !options.oauth) {
          throw new ArcuateError(
            "INVALID_PARAMETER_VALUE",
            "recipient: --access-token-lifetime needs --oauth (a bearer token has no access tokens)",
          );
        }
        const catalog = await openCatalog(options);
        const common = {
          ...tokenOptionsOf(options),
          ...(options.comment === undefined ? {} : { comment: options.comment }),
        };
        const lifetime = options.accessTokenLifetime;
        if (lifetime !== undefined && (!Number.isInteger(lifetime) || lifetime < 1)) {
          throw new ArcuateError(
            "INVALID_PARAMETER_VALUE",
            `recipient: --access-token-lifetime must be a whole number of seconds, at least 1, not ${lifetime}`,
          );
        }
        if (options.activationLink || options.linkExpiresIn !== undefined) {
          const link = await catalog.createRecipientWithActivationLink(name, {
            ...common,
            ...(options.oauth
              ? { oauth: lifetime === undefined ? {} : { accessTokenSeconds: lifetime } }
              : {}),
            ...(options.linkExpiresIn === undefined ? {} : { linkExpiresInSeconds: options.linkExpiresIn }),
          });
          io.out(`recipient ${link.recipient.name}\n`);
          io.out(`activation link: ${link.url}\n`);
          io.out(`link expires:    ${link.expiresAt}\n`);
          io.out(
            "The link works once: the recipient downloads its profile from it (its credentials are made then). It is shown only now.\n",
          );
          return;
        }
        printCredentials(
          io,
          options.oauth
            ? await catalog.createOAuthRecipient(name, {
                ...common,
                ...(lifetime === undefined ? {} : { accessTokenSeconds: lifetime }),
              })
            : await catalog.createRecipient(name, common),
        );
      },
    );
  tokenOptions(
    recipient
      .command("rotate <name>")
      .description(
        "issue a new token (or client secret, for OAuth); the old one stops working (after --grace)",
      ),
  )
    .option("--grace <duration>", "keep the old token working this long, e.g. 15m", parseDuration)
    .action(async (name: string, options: TokenCliOptions & { grace?: number }) => {
      const catalog = await openCatalog(options);
      const rotation = {
        ...tokenOptionsOf(options),
        ...(options.grace === undefined ? {} : { graceSeconds: options.grace }),
      };
      const known = (await catalog.listRecipients()).find((r) => r.name.toLowerCase() === name.toLowerCase());
      printCredentials(
        io,
        known?.oauth
          ? await catalog.rotateClientSecret(name, rotation)
          : await catalog.rotateRecipient(name, rotation),
      );
    });
  recipient
    .command("list")
    .description("list recipients, their expiry and grants (never their tokens)")
    .addOption(dirOption())
    .option("--json", "print JSON")
    .action(async (options: { workdir?: string; json?: boolean }) => {
      const recipients = await (await openCatalog(options)).listRecipients();
      if (options.json) {
        io.out(`${JSON.stringify(recipients, null, 2)}\n`);
        return;
      }
      if (recipients.length === 0) io.out("no recipients\n");
      for (const r of recipients) {
        const expiry = r.expiresAt ? `expires ${r.expiresAt}` : "never expires";
        const oauth = r.oauth ? `  oauth (access tokens ${r.oauth.accessTokenSeconds} s)` : "";
        const limits = [
          ...(r.allowedAddresses ? [`from ${r.allowedAddresses.join(", ")}`] : []),
          ...(r.rateLimit ? [describeRateLimit(r.rateLimit)] : []),
        ];
        io.out(
          `${r.name}  ${expiry}${oauth}  shares: ${r.shares.join(", ") || "none"}${limits.length > 0 ? `  limits: ${limits.join("; ")}` : ""}${r.comment ? `  — ${r.comment}` : ""}\n`,
        );
      }
    });
  recipient
    .command("set <name>")
    .description("limit a recipient: the addresses it may connect from, its request rate")
    .addOption(dirOption())
    .option("--allowed-addresses <cidrs>", "comma-separated ranges, e.g. 10.0.0.0/8,2001:db8::/32", (v) =>
      v.split(",").map(normaliseAddressRange),
    )
    .option("--rate-limit <rate>", "requests per second, minute or hour, e.g. 600/minute", parseRateLimit)
    .action(
      async (
        name: string,
        options: { workdir?: string; allowedAddresses?: string[]; rateLimit?: RateLimit },
      ) => {
        if (options.allowedAddresses === undefined && options.rateLimit === undefined)
          throw new ArcuateError(
            "INVALID_PARAMETER_VALUE",
            "recipient set: give --allowed-addresses or --rate-limit",
          );
        const info = await (await openCatalog(options)).alterRecipient(name, {
          ...(options.allowedAddresses === undefined ? {} : { allowedAddresses: options.allowedAddresses }),
          ...(options.rateLimit === undefined ? {} : { rateLimit: options.rateLimit }),
        });
        io.out(`${describeLimits(info)}\n`);
      },
    );
  recipient
    .command("unset <name>")
    .description("lift a recipient's limits")
    .addOption(dirOption())
    .option("--allowed-addresses", "let it connect from anywhere")
    .option("--rate-limit", "remove its rate limit (the server's default, if any, applies)")
    .action(
      async (
        name: string,
        options: { workdir?: string; allowedAddresses?: boolean; rateLimit?: boolean },
      ) => {
        if (!options.allowedAddresses && !options.rateLimit)
          throw new ArcuateError(
            "INVALID_PARAMETER_VALUE",
            "recipient unset: give --allowed-addresses or --rate-limit",
          );
        const info = await (await openCatalog(options)).alterRecipient(name, {
          ...(options.allowedAddresses ? { allowedAddresses: null } : {}),
          ...(options.rateLimit ? { rateLimit: null } : {}),
        });
        io.out(`${describeLimits(info)}\n`);
      },
    );
  recipient
    .command("drop <name>")
    .description("drop a recipient: its token and grants end at once")
    .addOption(dirOption())
    .option("--if-exists", "do nothing when the recipient does not exist")
    .action(async (name: string, options: { workdir?: string; ifExists?: boolean }) => {
      const dropped = await (await openCatalog(options)).dropRecipient(name, {
        ifExists: options.ifExists === true,
      });
      io.out(dropped ? `dropped recipient ${name}\n` : `no recipient ${name}\n`);
    });
  return recipient;
}

function grantCommand(io: CommandIo, kind: "grant" | "revoke"): Command {
  return new Command(kind)
    .description(kind === "grant" ? "let a recipient read a share" : "stop a recipient reading a share")
    .argument("<share>")
    .argument("<recipient>")
    .addOption(dirOption())
    .action(async (share: string, recipient: string, options: { workdir?: string }) => {
      const catalog = await openCatalog(options);
      if (kind === "grant") {
        await catalog.grant(share, recipient);
        io.out(`granted ${share} to ${recipient}\n`);
      } else {
        const revoked = await catalog.revoke(share, recipient);
        io.out(revoked ? `revoked ${share} from ${recipient}\n` : `${recipient} had no grant on ${share}\n`);
      }
    });
}

// ---------------------------------------------------------------------------------------------

interface TokenCliOptions {
  workdir?: string;
  expiresIn?: number;
  expiresAt?: string;
  endpoint?: string;
}

function tokenOptionsOf(options: TokenCliOptions): {
  expiresInSeconds?: number;
  expiresAt?: string;
  endpoint?: string;
} {
  if (options.expiresIn !== undefined && options.expiresAt !== undefined) {
    throw new ArcuateError(
      "INVALID_PARAMETER_VALUE",
      "recipient: give --expires-in or --expires-at, not both",
    );
  }
  return {
    ...(options.expiresIn === undefined ? {} : { expiresInSeconds: options.expiresIn }),
    ...(options.expiresAt === undefined ? {} : { expiresAt: options.expiresAt }),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
  };
}

function printCredentials(io: CommandIo, c: RecipientCredentials | OAuthRecipientCredentials): void {
  io.out(`recipient ${c.recipient.name}\n`);
  io.out(`profile:  ${c.profilePath}\n`);
  io.out(`endpoint: ${c.profile.endpoint}\n`);
  if ("clientSecret" in c) {
    io.out(`token endpoint: ${c.profile.tokenEndpoint}\n`);
    io.out(`client id:      ${c.profile.clientId}\n`);
    io.out(`client secret:  ${c.clientSecret}\n`);
    if (c.recipient.expiresAt) io.out(`expires:  ${c.recipient.expiresAt}\n`);
    io.out(
      "The client secret is shown only now; send the profile file to the recipient over a safe channel.\n",
    );
    return;
  }
  io.out(`token:    ${c.token}\n`);
  if (c.profile.expirationTime) io.out(`expires:  ${c.profile.expirationTime}\n`);
  io.out("The token is shown only now; send the profile file to the recipient over a safe channel.\n");
}

function collectRanges(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(",").map(normaliseAddressRange)];
}

/** `600/minute`, `10/second`, `5000 per hour`. */
export function parseRateLimit(value: string): RateLimit {
  const m = /^\s*(\d{1,7})\s*(?:\/|\s+per\s+)\s*(second|minute|hour)s?\s*$/i.exec(value);
  if (!m)
    throw new ArcuateError(
      "INVALID_PARAMETER_VALUE",
      `rate limit '${value}' is not like 600/minute, 10/second or 5000/hour`,
    );
  return checkRateLimit({
    requests: Number(m[1]),
    perSeconds: RATE_UNITS[m[2]!.toLowerCase() as keyof typeof RATE_UNITS],
  });
}

function splitQualified(qualified: string): [string, string] {
  const parts = qualified.split(".");
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new ArcuateError("INVALID_PARAMETER_VALUE", `share: expected <schema>.<table>, not '${qualified}'`);
  }
  return [parts[0], parts[1]];
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ArcuateError("INVALID_PARAMETER_VALUE", `serve: port '${value}' is not 0..65535`);
  return port;
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!(n > 0))
    throw new ArcuateError("INVALID_PARAMETER_VALUE", `serve: '${value}' is not a positive number`);
  return n;
}

/** Seconds from `3600`, `90s`, `15m`, `12h` or `30d`. */
export function parseDuration(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/i.exec(value);
  if (!m)
    throw new ArcuateError(
      "INVALID_PARAMETER_VALUE",
      `recipient: duration '${value}' is not like 3600, 90m, 12h or 30d`,
    );
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2]!.toLowerCase() as "" | "s" | "m" | "h" | "d"];
  return Number(m[1]) * unit;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
