// The `arcuate` command. A thin shell: each area registers its own subcommands; this file only
// wires them together and renders errors in one place.
import { Command } from "commander";
import { deltaCommand } from "./delta/commands.js";
import { demoCommand } from "./demo/commands.js";
import { messageOf } from "./errors.js";
import { kernelCommand } from "./kernel/commands.js";
import { runCommand } from "./lang/commands.js";
import { sharingCommand } from "./sharing/client/commands.js";
import { sharingServerCommands } from "./sharing/commands.js";

export function buildProgram(): Command {
  const program = new Command("arcuate")
    .description("Share MLflow experiments and models over the open Delta Sharing protocol")
    .showHelpAfterError();
  program.addCommand(deltaCommand());
  program.addCommand(demoCommand());
  program.addCommand(kernelCommand());
  program.addCommand(runCommand());
  program.addCommand(sharingCommand());
  for (const command of sharingServerCommands()) program.addCommand(command);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    process.stderr.write(`arcuate: ${messageOf(error)}\n`);
    process.exitCode = 1;
  }
}

// Run when executed directly (node dist/src/cli.js, tsx src/cli.ts, bin/arcuate.js).
const invokedAs = process.argv[1] ?? "";
if (/(?:cli\.[jt]s|arcuate(?:\.js)?)$/.test(invokedAs)) {
  await main(process.argv);
}
