// JupyterLab for the browser test: the project's pinned `jupyter lab` on a free loopback port,
// serving one folder, with the arcuate kernelspec of a test install, and Debian's Chromium driven
// by playwright-core (never a downloaded browser).
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { freePort } from "../../src/peers/mlflow-server.js";
import { PROJECT_ROOT } from "../support/paths.js";

export interface JupyterLab {
  /** The lab's URL with its token, e.g. `http://127.0.0.1:8888/lab?token=…`. */
  url(path?: string): string;
  stop(): Promise<void>;
}

/** Starts `jupyter lab` in `root` with `env` for its kernels; resolves once it answers. */
export async function startJupyterLab(root: string, env: Record<string, string>): Promise<JupyterLab> {
  const port = await freePort();
  const token = randomBytes(16).toString("hex");
  const home = await mkdtemp(join(tmpdir(), "arcuate-jupyterlab-"));
  // Every cell in the page (no windowing: the test reads outputs of cells scrolled away), and no
  // news prompt over the notebook.
  await writeSettings(home, "@jupyterlab/notebook-extension", "tracker", { windowingMode: "none" });
  // JupyterLab drops a completion provider's answer after providerTimeout (1 s by default): on
  // a loaded two-core machine the kernel's first answer (which lists the profile's shares over
  // HTTP) can take longer, and the popup would then hold only the editor's own words.
  await writeSettings(home, "@jupyterlab/completer-extension", "manager", { providerTimeout: 20_000 });
  await writeSettings(home, "@jupyterlab/apputils-extension", "notification", {
    fetchNews: "false",
    checkForUpdates: false,
  });
  const child: ChildProcess = spawn(
    join(PROJECT_ROOT, ".venv", "bin", "jupyter"),
    [
      "lab",
      "--no-browser",
      // CI and the project's machines run the suite as root.
      "--allow-root",
      "--ServerApp.ip=127.0.0.1",
      `--ServerApp.port=${port}`,
      "--ServerApp.port_retries=0",
      `--IdentityProvider.token=${token}`,
      `--ServerApp.root_dir=${root}`,
      "--LabApp.news_url=",
      "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
      // The test drives the lab through its command registry (window.jupyterapp).
      "--LabApp.expose_app_in_browser=True",
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        ...env,
        // A private settings and workspace folder: nothing of a person's own lab leaks in.
        JUPYTERLAB_SETTINGS_DIR: join(home, "settings"),
        JUPYTERLAB_WORKSPACES_DIR: join(home, "workspaces"),
        JUPYTER_RUNTIME_DIR: join(home, "runtime"),
        JUPYTER_CONFIG_DIR: join(home, "config"),
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let log = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    log += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    log += chunk.toString();
  });
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(home, { recursive: true, force: true });
  };
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`jupyter lab exited with ${child.exitCode}:\n${log}`);
    }
    const ok = await fetch(`${base}/api/status?token=${token}`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`jupyter lab did not answer on ${base} within 120 s:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return { url: (path = "lab") => `${base}/${path}?token=${token}`, stop };
}

async function writeSettings(
  home: string,
  extension: string,
  plugin: string,
  settings: object,
): Promise<void> {
  const dir = join(home, "settings", extension);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${plugin}.jupyterlab-settings`), JSON.stringify(settings));
}

/** The flags the project runs Chromium with: headless, and nothing that talks to the network. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS, headless: true });
}
