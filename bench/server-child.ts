// The sharing server alone in a child process for bench/server.ts, so its memory is measured
// without the load generator's. Prints its URL as one JSON line on stdout. A second argument is
// the location of an audit log to keep.
import { Catalog, startSharingServer } from "../src/sharing/index.js";

const catalog = await Catalog.open(process.argv[2]!);
const audit = process.argv[3];
const server = await startSharingServer({
  catalog,
  port: 0,
  log: (m) => process.stderr.write(`${m}\n`),
  ...(audit ? { audit: { location: audit } } : {}),
});
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
process.on("SIGTERM", () => void server.close().finally(() => process.exit(0)));
