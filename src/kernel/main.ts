// The program a kernelspec runs: `node <absolute path>/dist/src/kernel/main.js {connection_file}`.
// No top-level await here or anywhere the kernel imports (see DESIGN.md, Kernel).
import { startKernel } from "./launcher.js";

const connectionFile = process.argv[2];
if (connectionFile === undefined || connectionFile === "") {
  process.stderr.write(
    "usage: node main.js <connection_file>   (Jupyter starts this; see `arcuate kernel install`)\n",
  );
  process.exitCode = 2;
} else {
  startKernel({ connectionFile }).catch((error: unknown) => {
    process.stderr.write(
      `arcuate kernel: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}
