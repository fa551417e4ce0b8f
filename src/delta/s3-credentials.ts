// Temporary read-only credentials for one prefix of a bucket: STS AssumeRole with a session policy
// that allows GetObject under the prefix and ListBucket of it, nothing else. The sharing server
// vends these for `temporary-table-credentials`; any other caller (model files, say) can scope
// them to its own prefix. The role's own policy still applies: the result is the intersection.
import { ArcuateError, AuthError } from "../errors.js";
import { formatS3Location, parseS3Location } from "./s3-location.js";
import { s3Endpoint } from "./s3-storage.js";

export interface TemporaryCredentials {
  /** What they grant read access to, `s3://bucket/prefix`. */
  location: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** When they stop working (ms since the epoch). */
  expiration: number;
}

export interface VendOptions {
  /** `s3://bucket/prefix` (or `s3a://`): the folder the credentials may read, recursively. */
  location: string;
  /** The role to assume; the caller's own credentials (the standard chain) must be allowed to. */
  roleArn: string;
  /** Lifetime; STS allows 900 s at the least. Default 900. */
  durationSeconds?: number;
  /** Recorded in the role session's name (CloudTrail and the like). Default "arcuate". */
  sessionName?: string;
  /** STS endpoint. Default: AWS_ENDPOINT_URL_STS, else the S3 endpoint override, else AWS. */
  endpoint?: string;
  region?: string;
}

/** The session policy: read objects under the prefix, and list them, and nothing else. */
export function readPrefixPolicy(bucket: string, root: string): string {
  const prefix = root.replace(/\/$/, "");
  const objects = prefix === "" ? `arn:aws:s3:::${bucket}/*` : `arn:aws:s3:::${bucket}/${prefix}/*`;
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: ["s3:GetObject"], Resource: [objects] },
      {
        Effect: "Allow",
        Action: ["s3:ListBucket"],
        Resource: [`arn:aws:s3:::${bucket}`],
        ...(prefix === "" ? {} : { Condition: { StringLike: { "s3:prefix": [prefix, `${prefix}/*`] } } }),
      },
    ],
  });
}

export async function vendReadCredentials(options: VendOptions): Promise<TemporaryCredentials> {
  const loc = parseS3Location(options.location);
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const { AssumeRoleCommand, STSClient } = await import("@aws-sdk/client-sts");
  const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL_STS ?? s3Endpoint();
  const region =
    options.region ??
    process.env.AWS_REGION ??
    process.env.AWS_DEFAULT_REGION ??
    (endpoint !== undefined ? "us-east-1" : undefined);
  const client = new STSClient({
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
    maxAttempts: 3,
  });
  const where = formatS3Location(loc);
  try {
    const answer = await client.send(
      new AssumeRoleCommand({
        RoleArn: options.roleArn,
        RoleSessionName: (options.sessionName ?? "arcuate").replace(/[^\w+=,.@-]/g, "-").slice(0, 64),
        DurationSeconds: Math.max(900, options.durationSeconds ?? 900),
        Policy: readPrefixPolicy(loc.bucket, loc.root),
      }),
    );
    const c = answer.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
      throw new ArcuateError(
        "CONNECTION_FAILED",
        `delta: STS answered AssumeRole for ${where} without credentials`,
      );
    }
    return {
      location: where,
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration.getTime(),
    };
  } catch (error) {
    if (error instanceof ArcuateError) throw error;
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const message = error instanceof Error ? error.message : String(error);
    if (status === 401 || status === 403)
      throw new AuthError(`delta: STS refused to assume ${options.roleArn} for ${where}: ${message}`, {
        code: "PERMISSION_DENIED",
        cause: error,
      });
    throw new ArcuateError(
      "CONNECTION_FAILED",
      `delta: STS AssumeRole of ${options.roleArn} for ${where} failed${endpoint ? ` at ${endpoint}` : ""}: ${message}`,
      { cause: error },
    );
  } finally {
    client.destroy();
  }
}
