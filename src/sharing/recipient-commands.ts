// `arcuate recipient …`: recipients of the working folder's catalog, their bearer tokens or OAuth
// client credentials (shown once, never stored), activation links, and their limits.
import { Command } from "commander";
import { ArcuateError } from "../errors.js";
import type { OAuthRecipientCredentials, RateLimit, RecipientCredentials } from "./catalog/catalog.js";
import { describeLimits, describeRateLimit, normaliseAddressRange } from "./catalog/recipient-limits.js";
import { type CommandIo, dirOption, openCatalog, parseDuration, parseRateLimit } from "./command-support.js";

export function recipientCommand(io: CommandIo): Command {
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
