// One working folder for every command: what `arcuate run` creates in a folder, `arcuate serve`
// in the same folder serves, and the recipient's profile works against it. Run as a user would:
// each command its own process, one after another, in one folder.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, expect, it } from "vitest";
import { freePort } from "../../src/peers/mlflow-server.js";
import { PROJECT_ROOT } from "../support/paths.js";

// tsx's loader by path: the commands run in folders outside the project, where `--import tsx`
// would not resolve.
const TSX = join(PROJECT_ROOT, "node_modules", "tsx", "dist", "esm", "index.mjs");
const CLI = ["--import", TSX, join(PROJECT_ROOT, "src", "cli.ts")];
const folders: string[] = [];
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGTERM");
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), "arcuate-workdir-"));
  folders.push(dir);
  return dir;
}

/** Runs `arcuate …` in `cwd` to completion; the environment never names a working folder. */
function arcuate(cwd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const base = { ...process.env };
    delete base["ARCUATE_WORKDIR"];
    const child = spawn(process.execPath, [...CLI, ...args], {
      cwd,
      env: { ...base, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk));
    child.stderr.on("data", (chunk: Buffer) => (err += chunk));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`arcuate ${args[0]} exited with ${code}: ${err}`)),
    );
  });
}

/** Starts `arcuate serve` in `cwd` and returns what it printed up to the URL it serves. */
async function serve(cwd: string, args: string[], env: Record<string, string> = {}): Promise<string[]> {
  const base = { ...process.env };
  delete base["ARCUATE_WORKDIR"];
  const child = spawn(process.execPath, [...CLI, "serve", ...args], {
    cwd,
    env: { ...base, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const printed: string[] = [];
  await new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`arcuate serve exited with ${code}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      printed.push(line);
      if (line.includes("catalog:")) resolve();
    });
  });
  return printed;
}

async function sharesWith(profileFile: string): Promise<unknown> {
  const profile = JSON.parse(readFileSync(profileFile, "utf8")) as { endpoint: string; bearerToken: string };
  const reply = await fetch(`${profile.endpoint}/shares`, {
    headers: { authorization: `Bearer ${profile.bearerToken}` },
  });
  expect(reply.status).toBe(200);
  return reply.json();
}

it("serves what 'arcuate run' created in the same folder, with the profile it wrote", async () => {
  const dir = folder();
  const port = await freePort();
  // serve first, so the profile that CREATE RECIPIENT writes names the endpoint being served
  await serve(dir, ["--port", String(port)]);
  await arcuate(dir, [
    "run",
    "CREATE SHARE foo; CREATE RECIPIENT r; GRANT SELECT ON SHARE foo TO RECIPIENT r",
  ]);
  const profileFile = join(dir, "profiles", "r.share");
  expect(JSON.parse(readFileSync(profileFile, "utf8")).endpoint).toBe(
    `http://127.0.0.1:${port}/delta-sharing`,
  );
  // the running server picks up the new share and recipient without a restart
  expect(await sharesWith(profileFile)).toMatchObject({ items: [{ name: "foo" }] });
}, 90_000);

it("says when profiles issued earlier name another endpoint than the one served", async () => {
  const dir = folder();
  await arcuate(dir, [
    "run",
    "CREATE SHARE foo; CREATE RECIPIENT r; GRANT SELECT ON SHARE foo TO RECIPIENT r",
  ]);
  const port = await freePort();
  const printed = (await serve(dir, ["--port", String(port)])).join("\n");
  const served = `http://127.0.0.1:${port}/delta-sharing`;
  expect(printed).toContain(`profiles now name ${served}`);
  expect(printed).toContain("the profiles issued before (r) name http://127.0.0.1:8080/delta-sharing");
  expect(printed).toContain("arcuate recipient rotate <name>");
  expect(printed).toContain("shares: foo (0 tables, 1 recipient)");
  // re-issued as the message says, the profile names the server and works
  const rotated = await arcuate(dir, ["recipient", "rotate", "r"]);
  expect(rotated).toContain(`endpoint: ${served}`);
  expect(await sharesWith(join(dir, "profiles", "r.share"))).toMatchObject({ items: [{ name: "foo" }] });
}, 90_000);

it("takes the folder from --workdir or $ARCUATE_WORKDIR the same way in every command", async () => {
  const dir = folder();
  const elsewhere = folder();
  await arcuate(elsewhere, ["run", "CREATE SHARE by_flag", "--workdir", dir]);
  await arcuate(elsewhere, ["share", "create", "by_variable"], { ARCUATE_WORKDIR: dir });
  // run in the folder itself, with neither: the current folder is the default
  expect(await arcuate(dir, ["run", "SHOW SHARES"])).toMatch(/by_flag[\s\S]*by_variable/);
  // and the folder the commands were started in holds nothing of it
  expect(readdirSync(elsewhere)).toEqual([]);
}, 90_000);
