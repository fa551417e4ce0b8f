// `arcuate kernel …` subcommands, registered by src/cli.ts.
import { Command, Option } from "commander";
import { installKernelspec, KERNEL_NAME } from "./kernelspec.js";
import { runNotebook } from "./run-notebook.js";

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
  kernel
    .command("run")
    .description("Execute a notebook headless on this installation's kernel (Jupyter's nbconvert)")
    .argument("<notebook>", "the .ipynb to execute (left untouched)")
    .requiredOption("-o, --output-dir <dir>", "where the executed notebook goes; the kernel runs there")
    .option("--html", "also render the executed notebook to HTML")
    .option("--allow-errors", "run every cell even after one fails")
    .option("--timeout <seconds>", "seconds a cell may run", "600")
    .option("--python <path>", "a Python with nbconvert (default: the project's .venv, else python3)")
    .action(
      async (
        notebook: string,
        options: {
          outputDir: string;
          html?: boolean;
          allowErrors?: boolean;
          timeout: string;
          python?: string;
        },
      ) => {
        const result = await runNotebook({
          notebook,
          outputDir: options.outputDir,
          html: options.html === true,
          allowErrors: options.allowErrors === true,
          cellTimeout: Number(options.timeout),
          ...(options.python === undefined ? {} : { python: options.python }),
        });
        process.stdout.write(`${result.notebook}\n${result.html === undefined ? "" : `${result.html}\n`}`);
      },
    );
  return kernel;
}
