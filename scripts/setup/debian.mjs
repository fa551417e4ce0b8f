// Shared by the set-up steps that install a Debian package: apt-get when root, else the command
// to run is printed (the tests that need the peer then say it is missing). Plain Node built-ins.
import { spawnSync } from "node:child_process";

export function log(message) {
  process.stderr.write(`setup: ${message}\n`);
}

export function aptInstall(what, packages) {
  if (
    process.getuid?.() !== 0 ||
    spawnSync("sh", ["-c", "command -v apt-get"], { stdio: "ignore" }).status !== 0
  ) {
    log(
      `${what} is missing; install it with: sudo apt-get install -y --no-install-recommends ${packages.join(" ")}`,
    );
    return;
  }
  log(`installing Debian's ${packages.join(" ")} (apt-get)`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [
    ["update", "-qq"],
    ["install", "-y", "-qq", "--no-install-recommends", ...packages],
  ]) {
    const result = spawnSync("apt-get", args, { stdio: "inherit", env });
    if (result.status !== 0)
      throw new Error(`setup: 'apt-get ${args.join(" ")}' failed with exit code ${result.status}`);
  }
}
