// `arcuate sharing ls|cat`: the client for people and for checks. `ls` prints names, one a line
// (or the protocol's objects as JSON Lines with --json); `cat` prints rows as JSON Lines with the
// conventions of `arcuate delta cat` (the delta module's row rendering is reused, not copied).

import { Command, InvalidArgumentError } from "commander";
import { arrowSchemaToDelta, type StructType } from "../../delta/index.js";
import { batchRows } from "../../delta/json.js";
import { ArcuateError } from "../../errors.js";
import { SharingClient } from "./client.js";
import { loadProfile, parseCoordinate, parseLocation } from "./profile.js";

export interface SharingCommandIO {
  /** Where output goes (default process.stdout); returns a promise that settles on drain. */
  write?: (text: string) => Promise<void>;
}

function nonNegativeInt(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
    return Number(value);
  };
}

function isoTimestamp(value: string): string {
  if (Number.isNaN(Date.parse(value))) throw new InvalidArgumentError("expected an ISO 8601 timestamp");
  return value;
}

function stdoutWrite(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (error) => (error ? reject(error) : resolve()));
  });
}

/** The `sharing` command with its `ls` and `cat` subcommands. */
export function sharingCommand(io: SharingCommandIO = {}): Command {
  const write = io.write ?? stdoutWrite;
  const sharing = new Command("sharing").description("Read Delta Sharing shares with a profile file");

  sharing
    .command("ls")
    .description("List the shares of a profile, the schemas of a share, or the tables of a schema")
    .argument("<location>", "<profile>[#share[.schema]]")
    .option("--json", "print the protocol's objects as JSON Lines")
    .option("--all", "with <profile>#share: list the tables of every schema (share.schema.table)")
    .action(async (location: string, options: { json?: boolean; all?: boolean }) => {
      const where = parseLocation(location);
      if (where.table !== undefined) {
        throw new ArcuateError(
          "INVALID_PARAMETER_VALUE",
          `sharing: ls takes <profile>[#share[.schema]], not a table`,
        );
      }
      const client = new SharingClient(await loadProfile(where.profile));
      let items: Array<{ name: string; share?: string; schema?: string }>;
      let label: (item: { name: string; share?: string; schema?: string }) => string = (item) => item.name;
      if (where.share === undefined) items = await client.listShares();
      else if (where.schema !== undefined) items = await client.listTables(where.share, where.schema);
      else if (options.all) {
        items = await client.listAllTables(where.share);
        label = (item) => `${item.share}.${item.schema}.${item.name}`;
      } else items = await client.listSchemas(where.share);
      const text = items.map((item) => (options.json ? JSON.stringify(item) : label(item))).join("\n");
      if (text.length > 0) await write(`${text}\n`);
    });

  sharing
    .command("cat")
    .description("Print the rows of a shared table (or its change data feed) as JSON Lines")
    .argument("<table>", "<profile>#share.schema.table")
    .option("--version <n>", "read the table as of this version", nonNegativeInt("--version"))
    .option("--timestamp <iso>", "read the table as of this time (ISO 8601)", isoTimestamp)
    .option("--limit <n>", "print at most this many rows", nonNegativeInt("--limit"))
    .option("--changes", "print the change data feed instead of a snapshot")
    .option("--from <v>", "with --changes: first version (inclusive)", nonNegativeInt("--from"))
    .option(
      "--to <v>",
      "with --changes: last version (inclusive; default the latest)",
      nonNegativeInt("--to"),
    )
    .action(async (coordinate: string, options: CatOptions) => {
      const where = parseCoordinate(coordinate);
      checkCatOptions(options);
      const client = new SharingClient(await loadProfile(where.profile));
      const table = { share: where.share, schema: where.schema, name: where.table };
      if (options.changes) {
        const changes = await client.tableChanges(table, {
          startingVersion: options.from,
          endingVersion: options.to,
        });
        const schema = arrowSchemaToDelta(changes.schema);
        let left = options.limit ?? Number.POSITIVE_INFINITY;
        for (const batch of changes.batches) {
          if (left <= 0) break;
          const slice = batch.numRows > left ? batch.slice(0, left) : batch;
          left -= slice.numRows;
          await writeRows(write, batchRows(slice, schema));
        }
        return;
      }
      const query: { version?: number; timestamp?: string; limit?: number } = {};
      if (options.version !== undefined) query.version = options.version;
      if (options.timestamp !== undefined) query.timestamp = options.timestamp;
      if (options.limit !== undefined) query.limit = options.limit;
      let schema: StructType | undefined;
      for await (const batch of client.queryTableBatches(table, query)) {
        schema ??= arrowSchemaToDelta(batch.schema);
        await writeRows(write, batchRows(batch, schema));
      }
    });

  return sharing;
}

interface CatOptions {
  version?: number;
  timestamp?: string;
  limit?: number;
  changes?: boolean;
  from?: number;
  to?: number;
}

function checkCatOptions(options: CatOptions): void {
  const bad = (message: string) => new ArcuateError("INVALID_PARAMETER_VALUE", `sharing: ${message}`);
  if (options.version !== undefined && options.timestamp !== undefined) {
    throw bad("give --version or --timestamp, not both");
  }
  if (options.changes) {
    if (options.from === undefined) throw bad("--changes needs --from <version>");
    if (options.version !== undefined || options.timestamp !== undefined) {
      throw bad("--changes takes --from/--to, not --version/--timestamp");
    }
  } else if (options.from !== undefined || options.to !== undefined) {
    throw bad("--from and --to go with --changes");
  }
}

async function writeRows(write: (text: string) => Promise<void>, rows: Iterable<unknown>): Promise<void> {
  let chunk = "";
  for (const row of rows) {
    chunk += `${JSON.stringify(row)}\n`;
    // Write in pieces of about 1 MB: no whole table as one string, few syscalls.
    if (chunk.length > 1 << 20) {
      await write(chunk);
      chunk = "";
    }
  }
  if (chunk.length > 0) await write(chunk);
}
