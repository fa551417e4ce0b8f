// The provider's commands: `arcuate serve`, `arcuate share …`, `arcuate recipient …`,
// `arcuate grant|revoke`. Each works on the catalog in arcuate's working folder (`--workdir`,
// else $ARCUATE_WORKDIR, else the current folder: src/workdir.ts), the same folder `arcuate run`
// and the kernel use; a running server picks up changes without a restart.
import { join } from "node:path";
import { Command } from "commander";
import { type Catalog, DEFAULT_ENDPOINT, type RateLimit } from "./catalog/catalog.js";
import { withCatalogOption } from "./catalog/location.js";
import {
  type CommandIo,
  collectRanges,
  dirOption,
  openCatalog,
  parsePort,
  parsePositive,
  parseRateLimit,
  plural,
  splitQualified,
  stdoutIo,
} from "./command-support.js";
import { recipientCommand } from "./recipient-commands.js";
import { startSharingServer } from "./server/server.js";

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
