// Where the provider's catalog is: `--catalog <location>` on a command, else $ARCUATE_CATALOG,
// else the working folder (the embedded default). A location is a folder or a `postgres://` /
// `postgresql://` URL (catalog.ts chooses the implementation). The variable is the setting for
// the kernel and the API, which have no flags.
import { type Command, Option } from "commander";

export const CATALOG_VARIABLE = "ARCUATE_CATALOG";

export function resolveCatalogLocation(flag: string | undefined, workDir: string): string {
  return flag ?? process.env[CATALOG_VARIABLE] ?? workDir;
}

export function catalogOption(): Option {
  return new Option(
    "--catalog <location>",
    "the provider's catalog: a folder or a postgres:// URL (the password may come from $PGPASSWORD)",
  ).default(undefined, `$${CATALOG_VARIABLE}, else the working folder`);
}

/** Adds `--catalog` to every command (and subcommand) that has `--workdir`. */
export function withCatalogOption<T extends Command>(commands: T[]): T[] {
  const visit = (command: Command) => {
    if (command.options.some((o) => o.long === "--workdir")) command.addOption(catalogOption());
    for (const sub of command.commands) visit(sub);
  };
  for (const command of commands) visit(command);
  return commands;
}
