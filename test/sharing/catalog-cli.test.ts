// The provider's commands: share, recipient, grant/revoke on a working folder (in-process), and
// `arcuate serve` as a real process answering a recipient created by `arcuate recipient create`.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Command } from "commander";
import { afterAll, beforeAll, expect, it } from "vitest";
import { sharingServerCommands } from "../../src/sharing/index.js";
import { PROJECT_ROOT } from "../support/paths.js";

let root: string;
let out: string[];

async function arcuate(...args: string[]): Promise<string> {
  out = [];
  const program = new Command("arcuate").exitOverride();
  for (const command of sharingServerCommands({ out: (text) => out.push(text) })) program.addCommand(command);
  await program.parseAsync(["node", "arcuate", ...args]);
  return out.join("");
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "arcuate-cli-test-"));
  mkdirSync(join(root, "table", "_delta_log"), { recursive: true });
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

it("manages shares, recipients and grants from the command line", async () => {
  const dir = ["--workdir", join(root, "catalog")];
  expect(await arcuate("share", "create", "sales", "--comment", "Q3", ...dir)).toMatch(/^share sales \(/);
  expect(await arcuate("share", "add", "sales", "x.t", join(root, "table"), ...dir)).toContain(
    "added sales.x.t",
  );
  await expect(arcuate("share", "add", "sales", "x", join(root, "table"), ...dir)).rejects.toThrow(
    /schema>\.<table/,
  );
  const created = await arcuate(
    "recipient",
    "create",
    "alice",
    "--expires-in",
    "30d",
    "--endpoint",
    "https://s.example.com/delta-sharing",
    ...dir,
  );
  const profilePath = /profile: +(\S+)/.exec(created)![1]!;
  const token = /token: +(\S+)/.exec(created)![1]!;
  expect(JSON.parse(readFileSync(profilePath, "utf8"))).toMatchObject({
    bearerToken: token,
    endpoint: "https://s.example.com/delta-sharing",
  });
  expect(await arcuate("grant", "sales", "alice", ...dir)).toBe("granted sales to alice\n");
  expect(await arcuate("share", "list", ...dir)).toContain("sales — Q3  (recipients: alice)");
  const listed = await arcuate("recipient", "list", ...dir);
  expect(listed).toMatch(/alice {2}expires \d{4}-.* shares: sales/);
  expect(listed).not.toContain(token);
  const rotated = await arcuate("recipient", "rotate", "alice", "--grace", "10m", ...dir);
  expect(/token: +(\S+)/.exec(rotated)![1]).not.toBe(token);
  expect(await arcuate("revoke", "sales", "alice", ...dir)).toBe("revoked sales from alice\n");
  expect(JSON.parse(await arcuate("share", "list", "--json", ...dir))[0]).toMatchObject({
    name: "sales",
    recipients: [],
  });
  expect(await arcuate("share", "remove", "sales", "x.t", ...dir)).toContain("removed");
  expect(await arcuate("recipient", "drop", "alice", ...dir)).toBe("dropped recipient alice\n");
  expect(await arcuate("share", "drop", "sales", ...dir)).toBe("dropped share sales\n");
  expect(await arcuate("share", "list", ...dir)).toBe("no shares\n");
});

it("serves the catalog with arcuate serve, printing where and what", async () => {
  const dir = ["--workdir", join(root, "served")];
  await arcuate("share", "create", "sales", ...dir);
  await arcuate("share", "add", "sales", "x.t", join(root, "table"), ...dir);
  const created = await arcuate("recipient", "create", "bob", ...dir);
  const token = /token: +(\S+)/.exec(created)![1]!;
  await arcuate("grant", "sales", "bob", ...dir);
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(PROJECT_ROOT, "src", "cli.ts"), "serve", "--port", "0", ...dir],
    {
      cwd: PROJECT_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  try {
    const lines = createInterface({ input: child.stdout! });
    const printed: string[] = [];
    const url = await new Promise<string>((resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`arcuate serve exited with ${code}`)));
      lines.on("line", (line) => {
        printed.push(line);
        const m = /serving Delta Sharing at (\S+)/.exec(line);
        if (m) resolve(m[1]!);
      });
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/delta-sharing$/);
    const reply = await fetch(`${url}/shares`, { headers: { authorization: `Bearer ${token}` } });
    expect(await reply.json()).toMatchObject({ items: [{ name: "sales" }] });
    expect(printed.join("\n")).toContain("shares: sales (1 table, 1 recipient)");
    // Profiles created from now on point at the running server.
    const later = await arcuate("recipient", "create", "carol", ...dir);
    expect(later).toContain(`endpoint: ${url}`);
  } finally {
    child.kill("SIGTERM");
  }
}, 60_000);
