// nginx for the tests that put two sharing servers behind a load balancer (src/peers/nginx.ts):
// Debian's `nginx` when it is neither on PATH nor in /usr/sbin. Idempotent.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { aptInstall } from "./debian.mjs";

function found() {
  const dirs = [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/usr/local/sbin"];
  return dirs.some((dir) => dir && existsSync(join(dir, "nginx")));
}

export function nginx() {
  if (!found()) aptInstall("nginx", ["nginx"]);
}
