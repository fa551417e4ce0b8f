// `POST …/tables/{t}/temporary-table-credentials` (PROTOCOL.md "Generate Temporary Table
// Credential", directory-based access): STS credentials that may only read the table's prefix in
// its bucket, for engines that read the Delta log themselves. Offered only for tables in a bucket
// and only when the server has a role to assume; tables then say so with `accessModes` and
// `location` in listings and metadata. Anything else is a protocol error, not an empty answer.
import { formatS3Location, isS3Location, parseS3Location, vendReadCredentials } from "../../delta/index.js";
import { ArcuateError } from "../../errors.js";
import type { TableEntry } from "../catalog/state.js";
import { badRequest } from "./http.js";

export interface DirectoryAccess {
  /** The role STS assumes for recipients; the session policy narrows it to one table's prefix. */
  roleArn: string;
  /** Lifetime of vended credentials (STS allows 900 s at the least). */
  durationSeconds: number;
}

/** The server's directory access: `ARCUATE_S3_ROLE_ARN` unless options say otherwise. */
export function directoryAccessFrom(
  roleArn: string | undefined,
  durationSeconds: number,
): DirectoryAccess | undefined {
  const arn = roleArn ?? process.env.ARCUATE_S3_ROLE_ARN;
  if (arn === undefined || arn === "") return undefined;
  return { roleArn: arn, durationSeconds: Math.max(900, Math.floor(durationSeconds)) };
}

/** `location` and `accessModes` for a table that offers directory access; nothing otherwise. */
export function accessFields(
  entry: TableEntry,
  access: DirectoryAccess | undefined,
): { location?: string; accessModes?: string[] } {
  if (!access || !isS3Location(entry.location)) return {};
  return { location: formatS3Location(parseS3Location(entry.location)), accessModes: ["url", "dir"] };
}

export async function temporaryTableCredentials(
  table: { share: string; schema: string; entry: TableEntry },
  body: Record<string, unknown>,
  access: DirectoryAccess | undefined,
): Promise<unknown> {
  const name = `${table.share}.${table.schema}.${table.entry.name}`;
  const { location } = accessFields(table.entry, access);
  if (!access || location === undefined) {
    throw new ArcuateError(
      "UNSUPPORTED_FEATURE",
      `sharing: table ${name} offers no temporary table credentials (directory access); read it with the query endpoint`,
    );
  }
  const asked = body.location;
  if (asked !== undefined && asked !== null) {
    if (typeof asked !== "string")
      throw badRequest("sharing: 'location' must be a string", "MALFORMED_REQUEST");
    let same = false;
    try {
      same = isS3Location(asked) && formatS3Location(parseS3Location(asked)) === location;
    } catch {
      same = false;
    }
    if (!same) throw badRequest(`sharing: '${asked.slice(0, 200)}' is not a location of table ${name}`);
  }
  const credentials = await vendReadCredentials({
    location,
    roleArn: access.roleArn,
    durationSeconds: access.durationSeconds,
    sessionName: `arcuate-${table.entry.name}`,
  });
  return {
    credentials: {
      location: credentials.location,
      awsTempCredentials: {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        sessionToken: credentials.sessionToken,
      },
      expirationTime: credentials.expiration,
    },
  };
}

/** A prepared metadata answer with the table's access fields added to its metaData line. */
export function withAccessFields<P extends { lines: () => Generator<unknown> }>(
  prepared: P,
  fields: { location?: string; accessModes?: string[] },
): P {
  if (fields.accessModes === undefined) return prepared;
  return {
    ...prepared,
    lines: function* () {
      for (const line of prepared.lines()) {
        const meta = (line as { metaData?: Record<string, unknown> }).metaData;
        yield meta ? { metaData: { ...meta, ...fields } } : line;
      }
    },
  };
}
