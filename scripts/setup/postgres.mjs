// PostgreSQL for the tests of the PostgreSQL catalog (src/peers/postgres.ts starts throw-away
// clusters with initdb/postgres): Debian's `postgresql` when initdb is neither on PATH nor in
// /usr/lib/postgresql/<version>/bin. Idempotent: nothing happens when it is there.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { aptInstall } from "./debian.mjs";

function found() {
  for (const dir of (process.env.PATH ?? "").split(":"))
    if (dir && existsSync(join(dir, "initdb"))) return true;
  const base = "/usr/lib/postgresql";
  return existsSync(base) && readdirSync(base).some((v) => existsSync(join(base, v, "bin", "initdb")));
}

export function postgres() {
  if (!found()) aptInstall("PostgreSQL", ["postgresql"]);
}
