// The sharing server alone in a child process for bench/s3-server.ts. Prints its URL as one JSON
// line on stdout, then answers commands on stdin, one a line, each with one JSON line:
//   mem            memory after a full GC (run with --expose-gc): rss, heapUsed, external, arrayBuffers
//   heap <file>    writes a V8 heap snapshot to <file> (for DevTools' Memory tab)
//   alloc-start    starts V8's sampling heap profiler, counting objects that die too
//   alloc-stop <file>  writes what was allocated since alloc-start (a .heapprofile for DevTools)
//   cpu-start / cpu-stop <file>  the same with a CPU profile (.cpuprofile)

import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { createInterface } from "node:readline";
import { writeHeapSnapshot } from "node:v8";
import { Catalog, startSharingServer } from "../src/sharing/index.js";

const catalog = await Catalog.open(process.argv[2]!);
const server = await startSharingServer({
  catalog,
  port: 0,
  log: (m) => process.stderr.write(`${m}\n`),
});
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
process.on("SIGTERM", () => void server.close().finally(() => process.exit(0)));

const gc = (globalThis as { gc?: () => void }).gc;
let inspector: Session | undefined;
const session = () => {
  if (!inspector) {
    inspector = new Session();
    inspector.connect();
  }
  return inspector;
};
const reply = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
createInterface({ input: process.stdin }).on("line", async (line) => {
  const [command, arg] = line.split(" ");
  if (command === "mem") {
    gc?.();
    const m = process.memoryUsage();
    process.stdout.write(
      `${JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers })}\n`,
    );
  } else if (command === "heap" && arg) {
    gc?.();
    reply({ file: writeHeapSnapshot(arg) });
  } else if (command === "alloc-start") {
    await session().post("HeapProfiler.startSampling", {
      samplingInterval: 16384,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    reply({ started: true });
  } else if (command === "alloc-stop" && arg) {
    const { profile } = await session().post("HeapProfiler.stopSampling");
    writeFileSync(arg, JSON.stringify(profile));
    reply({ file: arg });
  } else if (command === "cpu-start") {
    await session().post("Profiler.enable");
    await session().post("Profiler.start");
    reply({ started: true });
  } else if (command === "cpu-stop" && arg) {
    const { profile } = await session().post("Profiler.stop");
    writeFileSync(arg, JSON.stringify(profile));
    reply({ file: arg });
  }
});
