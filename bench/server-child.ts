// The sharing server alone in a child process for bench/server.ts, so its memory is measured
// without the load generator's. Prints its URL as one JSON line on stdout.
import { Catalog, startSharingServer } from "../src/sharing/index.js";

const catalog = await Catalog.open(process.argv[2]!);
const server = await startSharingServer({ catalog, port: 0, log: () => {} });
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
process.on("SIGTERM", () => void server.close().finally(() => process.exit(0)));
