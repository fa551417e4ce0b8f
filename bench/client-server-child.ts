// arcuate's sharing server alone in a child process for bench/client.ts: serving in the client's
// own process would put the server's file reads and writes on the client's event loop, which no
// real deployment does. Prints its URL as one JSON line on stdout; SIGTERM stops it.
import { Catalog, startSharingServer } from "../src/sharing/index.js";

const catalog = await Catalog.open(process.argv[2]!);
const server = await startSharingServer({ catalog, host: "127.0.0.1", port: 0, log: () => {} });
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
process.on("SIGTERM", () => void server.close().finally(() => process.exit(0)));
