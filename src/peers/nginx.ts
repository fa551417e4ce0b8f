// Starts and stops nginx as a load balancer in front of HTTP servers on loopback: a generated
// config in a temp folder (logs, pid and temp files there too), round robin over the upstreams,
// a failed connection retried on the next upstream (also for POST: the sharing API's POSTs only
// read). Each response says which upstream served it in `X-Upstream`, so tests can see the
// alternation. nginx comes from PATH or /usr/sbin (scripts/setup/nginx.mjs installs it when missing).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ArcuateError } from "../errors.js";
import { freePort } from "./mlflow-server.js";

export interface NginxOptions {
  /** `host:port` of each upstream server. */
  upstreams: string[];
  /** Port to listen on (127.0.0.1). Default: a free one. */
  port?: number;
  startTimeoutMs?: number;
}

export interface Nginx {
  readonly port: number;
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  readonly dir: string;
  readonly errorLog: string;
  stop(): Promise<void>;
}

export function nginxBinary(): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/usr/local/sbin"];
  for (const dir of dirs) if (dir && existsSync(join(dir, "nginx"))) return join(dir, "nginx");
  return undefined;
}

export function nginxConfig(dir: string, port: number, upstreams: string[]): string {
  const servers = upstreams.map((u) => `    server ${u} max_fails=1 fail_timeout=2s;`).join("\n");
  return `daemon off;
master_process on;
worker_processes 1;
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "error.log")} warn;
${process.getuid?.() === 0 ? "user root;\n" : ""}events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${join(dir, "tmp", "body")};
  proxy_temp_path ${join(dir, "tmp", "proxy")};
  fastcgi_temp_path ${join(dir, "tmp", "fastcgi")};
  uwsgi_temp_path ${join(dir, "tmp", "uwsgi")};
  scgi_temp_path ${join(dir, "tmp", "scgi")};
  upstream arcuate {
${servers}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 16m;
    location / {
      proxy_pass http://arcuate;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_buffering off;
      proxy_read_timeout 300s;
      proxy_connect_timeout 2s;
      proxy_next_upstream error timeout non_idempotent;
      proxy_next_upstream_tries 3;
      add_header X-Upstream $upstream_addr always;
    }
  }
}
`;
}

export async function startNginx(options: NginxOptions): Promise<Nginx> {
  const binary = nginxBinary();
  if (!binary) {
    throw new ArcuateError(
      "UNSUPPORTED_FEATURE",
      "peers: nginx is not installed; run `node scripts/setup.mjs` or apt-get install nginx",
    );
  }
  const dir = mkdtempSync(join(tmpdir(), "arcuate-nginx-"));
  mkdirSync(join(dir, "tmp"));
  const port = options.port ?? (await freePort());
  const config = join(dir, "nginx.conf");
  writeFileSync(config, nginxConfig(dir, port, options.upstreams));
  const errorLog = join(dir, "error.log");
  const child: ChildProcess = spawn(binary, ["-p", dir, "-e", errorLog, "-c", config], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const onExit = () => child.kill("SIGKILL");
  process.once("exit", onExit);
  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new ArcuateError(
        "CONNECTION_FAILED",
        `peers: nginx did not start on port ${port}: ${stderr.trim()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    dir,
    errorLog,
    stop: async () => {
      process.off("exit", onExit);
      if (child.exitCode === null) {
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        child.kill("SIGTERM"); // fast shutdown
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
