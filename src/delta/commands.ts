// `arcuate delta cat|history|vacuum`: a table's rows or commits as JSON Lines, for people and for
// checks; and the deletion of files no recent version needs.
import { Command, InvalidArgumentError } from "commander";
import { ArcuateError } from "../errors.js";
import { batchRows } from "./json.js";
import { DeltaTable } from "./table.js";

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`not a non-negative integer: ${value}`);
  return n;
}

/** Writes `text` to stdout, waiting when the pipe is full (so `| head` and large tables work). */
function write(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = process.stdout.write(text, (error) => (error ? reject(error) : undefined));
    if (ok) resolve();
    else process.stdout.once("drain", resolve);
  });
}

export async function catTable(
  location: string,
  options: { version?: number; timestamp?: string; limit?: number },
): Promise<void> {
  if (options.version !== undefined && options.timestamp !== undefined) {
    throw new ArcuateError("INVALID_PARAMETER_VALUE", "delta: give --version or --timestamp, not both");
  }
  const table = await DeltaTable.open(location);
  const snapshot = await table.snapshot({
    ...(options.version !== undefined ? { version: options.version } : {}),
    ...(options.timestamp !== undefined ? { timestamp: options.timestamp } : {}),
  });
  for await (const batch of snapshot.scanBatches(
    options.limit !== undefined ? { limit: options.limit } : {},
  )) {
    let chunk = "";
    for (const row of batchRows(batch, snapshot.schema)) {
      chunk += `${JSON.stringify(row)}\n`;
      if (chunk.length > 1 << 16) {
        await write(chunk);
        chunk = "";
      }
    }
    if (chunk) await write(chunk);
  }
}

export async function printHistory(location: string): Promise<void> {
  const table = await DeltaTable.open(location);
  for (const commit of await table.history()) {
    const { timestamp: _ignored, ...info } = commit.commitInfo ?? {};
    await write(
      `${JSON.stringify({
        version: commit.version,
        timestamp: new Date(commit.timestamp).toISOString(),
        operation: commit.operation ?? null,
        ...info,
      })}\n`,
    );
  }
}

export function deltaCommand(): Command {
  const delta = new Command("delta").description("Read Delta Lake tables");
  delta
    .command("cat")
    .description(
      "Print a table's rows as JSON Lines (binary as base64, timestamps ISO 8601 UTC, decimals as strings)",
    )
    .argument("<table>", "the table: a folder holding _delta_log, or s3://bucket/prefix")
    .option("--version <n>", "read this version", nonNegativeInt)
    .option("--timestamp <iso>", "read the latest version committed at or before this time")
    .option("--limit <n>", "print at most this many rows", nonNegativeInt)
    .action(async (location: string, options: { version?: number; timestamp?: string; limit?: number }) => {
      await catTable(location, options);
    });
  delta
    .command("history")
    .description("Print one JSON line per commit, newest first")
    .argument("<table>", "the table: a folder, or s3://bucket/prefix")
    .action(async (location: string) => {
      await printHistory(location);
    });
  delta
    .command("vacuum")
    .description(
      "Delete the data files no version of the retention window needs (the table's delta.deletedFileRetentionDuration, one week unless set); versions older than the window stop being readable",
    )
    .argument("<table>", "the table: a folder, or s3://bucket/prefix")
    .option(
      "--retain-hours <n>",
      "keep what versions current in the last <n> hours need (at least 2)",
      positiveNumber,
    )
    .option("--dry-run", "list the files that would be deleted, delete nothing")
    .action(async (location: string, options: { retainHours?: number; dryRun?: boolean }) => {
      const table = await DeltaTable.open(location);
      const result = await table.vacuum({
        ...(options.retainHours === undefined ? {} : { retentionMs: options.retainHours * 3_600_000 }),
        dryRun: options.dryRun === true,
      });
      if (result.dryRun) for (const file of result.files) await write(`${file}\n`);
      await write(
        `${result.dryRun ? "would delete" : "deleted"} ${result.files.length} files (${result.bytes} bytes); versions ${result.oldestVersionKept} and later stay readable\n`,
      );
    });
  return delta;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`not a positive number: ${value}`);
  return n;
}
