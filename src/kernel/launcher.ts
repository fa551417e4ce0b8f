// Starts the arcuate kernel: tslab's converter, executor and ZeroMQ server, built here rather
// than through tslab's `startKernel` (which would look for, and hand over to, another copy of
// tslab in the notebook's folder, and whose handler cannot be wrapped), with arcuate's kernel
// in between. Everything tslab does for a TypeScript cell is unchanged.
import { resolveWorkDir } from "../workdir.js";
import { ArcuateKernel, ExecutorConsole } from "./kernel.js";
import { type CreateSession, loadLanguage } from "./language.js";
import { packageRoot } from "./paths.js";
import { makePackageImportable } from "./resolve.js";
import { ArcuateServer } from "./server.js";
import { type ConverterSet, converter, executor, jupyter } from "./tslab.js";

export interface KernelOptions {
  /** The connection file Jupyter passes (`{connection_file}` in the kernelspec). */
  connectionFile: string;
  /** arcuate's working folder for the language session (default: $ARCUATE_WORKDIR, else the notebook's folder). */
  workDir?: string;
  /** Default profile file for recipient statements (default: $ARCUATE_PROFILE). */
  profile?: string;
  /** The notebook's folder, where cells resolve their imports (default: the current directory). */
  notebookDir?: string;
  /** How the language is loaded (default: `src/lang`). */
  loadLanguage?: () => Promise<CreateSession>;
}

/** tslab's converters, created on first use as tslab's own ConverterSetImpl does. */
class Converters implements ConverterSet {
  private nodeConverter: ConverterSet["node"] | undefined;
  private browserConverter: ConverterSet["browser"] | undefined;

  get node(): ConverterSet["node"] {
    this.nodeConverter ??= converter.createConverter({ isJS: false, isBrowser: false });
    return this.nodeConverter;
  }

  get browser(): ConverterSet["browser"] {
    this.browserConverter ??= converter.createConverter({ isJS: false, isBrowser: true });
    return this.browserConverter;
  }

  close(): void {
    this.nodeConverter?.close();
    this.browserConverter?.close();
  }
}

/** Builds the kernel and serves Jupyter on the connection file's sockets until shutdown. */
export async function startKernel(options: KernelOptions): Promise<void> {
  const notebookDir = options.notebookDir ?? process.cwd();
  // Before the converter exists: TypeScript binds parts of its file system when it is created.
  makePackageImportable(packageRoot(), notebookDir);
  const converters = new Converters();
  const executorConsole = new ExecutorConsole();
  const tsExecutor = executor.createExecutor(notebookDir, converters, executorConsole);
  const profile = options.profile ?? process.env["ARCUATE_PROFILE"];
  // tslab's own handler answers for TypeScript cells (completion, inspection, kernel info).
  const typescript = new jupyter.JupyterHandlerImpl(tsExecutor, false);
  const kernel = new ArcuateKernel({
    executor: tsExecutor,
    console: executorConsole,
    typescript,
    loadLanguage: options.loadLanguage ?? loadLanguage,
    workDir: resolveWorkDir(options.workDir, notebookDir),
    ...(profile === undefined ? {} : { profile }),
  });
  await kernel.prepare();

  const server = new ArcuateServer(kernel, typescript, options.connectionFile);
  // As tslab's startKernel: Ctrl-C in the notebook interrupts the running cell, and a stray
  // asynchronous error of a cell is reported rather than killing the kernel.
  process.on("SIGINT", () => {
    tsExecutor.interrupt();
    kernel.interrupt();
  });
  process.on("uncaughtException", (error) => console.error("UncaughtException:", error));
  process.on("unhandledRejection", (reason) => console.error("UnhandledPromiseRejection:", reason));
  await server.init();
}
