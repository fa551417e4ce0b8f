// SeaweedFS (`weed mini`) as the tests' S3-compatible server: started on free loopback ports with a
// fresh data folder and an IAM config (an admin identity, STS with a role to assume), waited for
// with an authenticated list and put (its /status answers before S3 does), and stopped with its
// whole process group. The binary is built once by scripts/setup/seaweedfs.mjs.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, ListBucketsCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
// @ts-expect-error plain JavaScript set-up module, without types
import { seaweedfsBinary } from "../../scripts/setup/seaweedfs.mjs";
import { freePort } from "../../src/peers/mlflow-server.js";

export interface SeaweedFs {
  /** The S3 endpoint, e.g. http://127.0.0.1:40123 */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** A role any identity may assume, with full S3 access (session policies narrow it). */
  roleArn: string;
  /** The standard AWS variables that point an SDK (arcuate's, boto3, delta-rs) at this server. */
  env: Record<string, string>;
  /** A client with the admin identity. */
  client: S3Client;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

// The SDK's notice that its releases after January 2027 need Node 22 (the pinned ones do not).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const ROLE_ARN = "arn:aws:iam::role/ArcuateReader";

export interface SeaweedFsOptions {
  /**
   * The longest STS session, in seconds (default 12 h). SeaweedFS accepts `DurationSeconds` from
   * 900 and caps the session at this length, so a short one lets a test watch credentials expire.
   */
  maxSessionSeconds?: number;
}

function iamConfig(accessKeyId: string, secretAccessKey: string, options: SeaweedFsOptions): string {
  return JSON.stringify({
    identities: [
      {
        name: "admin",
        credentials: [{ accessKey: accessKeyId, secretKey: secretAccessKey }],
        actions: ["Admin", "Read", "Write", "List", "Tagging"],
      },
    ],
    sts: {
      tokenDuration: "1h",
      maxSessionLength: options.maxSessionSeconds === undefined ? "12h" : `${options.maxSessionSeconds}s`,
      issuer: "seaweedfs-sts",
      signingKey: randomBytes(32).toString("base64"),
    },
    policy: { defaultEffect: "Deny", storeType: "memory" },
    policies: [
      {
        name: "S3FullAccess",
        document: {
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: ["s3:*"], Resource: ["*"] }],
        },
      },
    ],
    roles: [
      {
        roleName: "ArcuateReader",
        roleArn: ROLE_ARN,
        attachedPolicies: ["S3FullAccess"],
        trustPolicy: {
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: "*", Action: ["sts:AssumeRole"] }],
        },
      },
    ],
  });
}

async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

export async function startSeaweedFs(options: SeaweedFsOptions = {}): Promise<SeaweedFs> {
  const binary = seaweedfsBinary() as string;
  if (!existsSync(binary))
    throw new Error(
      `SeaweedFS is missing: ${binary} does not exist; run 'npm test' or 'node scripts/setup.mjs --with-chromium'`,
    );
  const dir = mkdtempSync(join(tmpdir(), "arcuate-weed-"));
  const accessKeyId = "arcuate-admin";
  const secretAccessKey = randomBytes(18).toString("base64url");
  const iam = join(dir, "iam.json");
  writeFileSync(iam, iamConfig(accessKeyId, secretAccessKey, options));
  const [master, masterGrpc, volume, volumeGrpc, filer, filerGrpc, s3, s3Grpc, admin, adminGrpc] =
    await distinctFreePorts(10);
  const args = [
    "mini",
    `-dir=${join(dir, "data")}`,
    "-ip=127.0.0.1",
    "-ip.bind=127.0.0.1",
    `-master.port=${master}`,
    `-master.port.grpc=${masterGrpc}`,
    `-volume.port=${volume}`,
    `-volume.port.grpc=${volumeGrpc}`,
    `-filer.port=${filer}`,
    `-filer.port.grpc=${filerGrpc}`,
    `-s3.port=${s3}`,
    `-s3.port.grpc=${s3Grpc}`,
    `-admin.port=${admin}`,
    `-admin.port.grpc=${adminGrpc}`,
    "-admin.port.legacy=0",
    "-admin.ui=false",
    "-s3.port.iceberg=0",
    "-s3.port.lance=0",
    "-webdav=false",
    `-s3.config=${iam}`,
    `-s3.iam.config=${iam}`,
    "-s3.iam.readOnly=false",
  ];
  const logFile = join(dir, "weed.log");
  const log = createWriteStream(logFile);
  // Its own process group, so that stop() ends weed and everything it started.
  const child: ChildProcess = spawn(binary, args, {
    cwd: dir,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });
  const endpoint = `http://127.0.0.1:${s3}`;
  const region = "us-east-1";
  const client = new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
  });
  const stop = async (): Promise<void> => {
    client.destroy();
    if (!exited && child.pid !== undefined) {
      const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          // already gone
        }
      }, 5_000);
      await gone;
      clearTimeout(timer);
    }
    log.end();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilReady(client, () => exited, logFile);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    region,
    roleArn: ROLE_ARN,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: secretAccessKey,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ALLOW_HTTP: "true",
    },
    client,
    createBucket: async (name) => {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    stop,
  };
}

async function waitUntilReady(client: S3Client, exited: () => boolean, logFile: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  const bucket = "arcuate-ready";
  let last: unknown;
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`weed mini exited early:\n${tail(logFile)}`);
    try {
      await client.send(new ListBucketsCommand({}));
      await client.send(new CreateBucketCommand({ Bucket: bucket })).catch((error: unknown) => {
        if ((error as { name?: string }).name !== "BucketAlreadyOwnedByYou") throw error;
      });
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: "ready", Body: "ok" }));
      return;
    } catch (error) {
      last = error;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  throw new Error(`weed mini was not ready within 90 s (${String(last)}):\n${tail(logFile)}`);
}

function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").slice(-3000);
  } catch {
    return "";
  }
}
