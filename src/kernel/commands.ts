// `arcuate kernel …` subcommands, registered by src/cli.ts.
import { Command, Option } from "commander";
import { installKernelspec, KERNEL_NAME } from "./kernelspec.js";

export function kernelCommand(): Command {
  const kernel = new Command("kernel").description(
    "The arcuate Jupyter kernel: TypeScript (tslab) with %arcuate statements",
  );
  kernel
    .command("install")
    .description(
      `Install the '${KERNEL_NAME}' kernelspec for Jupyter (starts this installation's kernel by absolute path)`,
    )
    .addOption(
      new Option("--user", "install for the current user (default)").conflicts(["sysPrefix", "prefix"]),
    )
    .addOption(
      new Option("--sys-prefix", "install into the Python's sys.prefix (its virtual environment)").conflicts(
        "prefix",
      ),
    )
    .addOption(new Option("--prefix <path>", "install into <path>/share/jupyter/kernels/"))
    .addOption(
      new Option(
        "--python <path>",
        "a Python with jupyter_client (default: the project's .venv, else python3)",
      ),
    )
    .action(async (options: { user?: boolean; sysPrefix?: boolean; prefix?: string; python?: string }) => {
      const installed = await installKernelspec(options);
      process.stdout.write(`Installed the '${KERNEL_NAME}' kernelspec in ${installed}\n`);
    });
  return kernel;
}
