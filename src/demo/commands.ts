// `arcuate demo [--dir D] [--keep]`.
import { Command } from "commander";
import { runDemo } from "./demo.js";

export function demoCommand(): Command {
  return new Command("demo")
    .description("run the provider → recipient story on local MLflow servers and arcuate's sharing server")
    .option("--dir <folder>", "the working folder (emptied first)", "demo")
    .option("--keep", "leave the servers running for exploration (Ctrl-C stops them)", false)
    .action(async (options: { dir: string; keep: boolean }) => {
      const result = await runDemo({ dir: options.dir, keep: options.keep });
      if (options.keep) {
        process.stdout.write("servers running; press Ctrl-C to stop them.\n");
        await new Promise<void>((resolve) => {
          const done = () => void result.stop().finally(resolve);
          process.once("SIGINT", done);
          process.once("SIGTERM", done);
        });
      }
    });
}
