// `arcuate run "<statements>"` and `arcuate run -f file.sql`: %arcuate statements outside a
// notebook, results printed as text (tables aligned), progress on stderr when it is a terminal.
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { parseS3Location } from "../delta/index.js";
import { ArcuateError } from "../errors.js";
import { CATALOG_VARIABLE, catalogOption } from "../sharing/catalog/location.js";
import { resolveWorkDir, workDirOption } from "../workdir.js";
import { formatResult } from "./format.js";
import type { Runtime } from "./runtime.js";
import { createSession } from "./session.js";

export interface RunCommandOptions {
  /** Where results go (default: stdout). */
  write?: (text: string) => void;
  /** Does the steps' work (default: the session's default runtime). */
  runtime?: Runtime;
}

interface RunFlags {
  file?: string;
  workdir?: string;
  catalog?: string;
  tables?: string;
  mlflow?: string;
  profile?: string;
  var: string[];
}

export function runCommand(options: RunCommandOptions = {}): Command {
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  return new Command("run")
    .description("run %arcuate statements (separated by ';'), e.g. arcuate run \"SHOW SHARES\"")
    .argument("[statements]", "the statements to run")
    .option("-f, --file <path>", "read the statements from a file ('-' for standard input)")
    .addOption(workDirOption())
    .addOption(catalogOption())
    .option(
      "--tables <location>",
      "where exports write their tables: a folder or s3://bucket/prefix (default: $ARCUATE_TABLES, else <workdir>/tables)",
    )
    .option("--mlflow <uri>", "MLflow tracking server (default: $MLFLOW_TRACKING_URI)")
    .option("--profile <path>", "profile file for coordinates written without 'profile#'")
    .option("--var <name=value>", "bind :name to value (repeatable; numbers stay numbers)", collect, [])
    .action(async (statements: string | undefined, flags: RunFlags) => {
      // The kernel and the API read the catalog's location from the variable; so does run.
      if (flags.catalog) process.env[CATALOG_VARIABLE] = flags.catalog;
      if (flags.tables) process.env.ARCUATE_TABLES = checkedTablesLocation(flags.tables);
      const text = readStatements(statements, flags.file);
      const variables = parseVariables(flags.var);
      const session = createSession({
        workDir: resolveWorkDir(flags.workdir),
        ...(flags.mlflow ? { mlflowUri: flags.mlflow } : {}),
        ...(flags.profile ? { profile: flags.profile } : {}),
        variables: (name) => variables.get(name),
        ...(options.runtime ? { runtime: options.runtime } : {}),
      });
      const showProgress = options.write === undefined && process.stderr.isTTY === true;
      let printed = 0;
      await session.execute(text, {
        onProgress: (event) => {
          if (showProgress) process.stderr.write(`${event.step}: ${event.message}\n`);
        },
        // Print each result as its statement finishes: a failing statement keeps the ones before it.
        onResult: (result) => write(`${printed++ > 0 ? "\n" : ""}${formatResult(result)}\n`),
      });
    });
}

/** `--tables`: a folder, or an `s3://`/`s3a://` location with a bucket (checked before any work). */
function checkedTablesLocation(location: string): string {
  if (/^s3a?:/i.test(location)) parseS3Location(location);
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location))
    throw new ArcuateError(
      "INVALID_PARAMETER_VALUE",
      `run: --tables '${location}' is neither a folder nor an s3:// location`,
    );
  return location;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function readStatements(statements: string | undefined, file: string | undefined): string {
  if (statements !== undefined && file !== undefined) {
    throw new ArcuateError("INVALID_PARAMETER_VALUE", "run: give statements or -f <file>, not both");
  }
  if (file !== undefined) return readFileSync(file === "-" ? 0 : file, "utf8");
  if (statements === undefined) {
    throw new ArcuateError(
      "INVALID_PARAMETER_VALUE",
      'run: no statements: arcuate run "SHOW SHARES" or arcuate run -f file.sql',
    );
  }
  return statements;
}

/** `--var n=5 --var name=churn`: numbers as numbers, true/false as booleans, the rest as strings. */
export function parseVariables(assignments: string[]): Map<string, unknown> {
  const variables = new Map<string, unknown>();
  for (const assignment of assignments) {
    const eq = assignment.indexOf("=");
    if (eq <= 0)
      throw new ArcuateError("INVALID_PARAMETER_VALUE", `run: --var wants name=value, got '${assignment}'`);
    const raw = assignment.slice(eq + 1);
    const value = /^-?\d+(\.\d+)?$/.test(raw)
      ? Number(raw)
      : raw === "true"
        ? true
        : raw === "false"
          ? false
          : raw;
    variables.set(assignment.slice(0, eq), value);
  }
  return variables;
}
