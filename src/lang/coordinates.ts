// Share coordinates, as the Delta Sharing connectors write them: `profile#share.schema.table`.
// The profile is split off at the last `#` (a path may contain `#`, a share name may not); without
// it, the session's profile (USE PROFILE) is used.
import { nameProblem } from "../sharing/protocol.js";
import type { SchemaCoordinate, TableCoordinate } from "./plan.js";

const PARTS = ["share", "schema", "table"] as const;
type Part = (typeof PARTS)[number];

const SHAPES: Record<Part, string> = {
  share: "'profile#share'",
  schema: "'profile#share.schema'",
  table: "'profile#share.schema.table'",
};

/** A coordinate that cannot be used; the message says what is missing and how to write it. */
export class CoordinateProblem extends Error {}

interface Split {
  profile: string;
  parts: string[];
}

function split(coordinate: string, defaultProfile: string | null, shape: string): Split {
  const hash = coordinate.lastIndexOf("#");
  const profile = hash >= 0 ? coordinate.slice(0, hash) : defaultProfile;
  const path = hash >= 0 ? coordinate.slice(hash + 1) : coordinate;
  if (!profile) {
    const why =
      hash >= 0 ? "the part before '#' is empty" : "it has no 'profile#' and no USE PROFILE is in effect";
    throw new CoordinateProblem(
      `'${coordinate}' names no profile file (${why}): write ${shape} or run USE PROFILE 'path' first`,
    );
  }
  const parts = path.split(".");
  const empty = parts.findIndex((part) => part.trim() === "");
  if (empty >= 0) {
    const which = PARTS[empty] ?? "name";
    throw new CoordinateProblem(`'${coordinate}' is missing the ${which} name: write ${shape}`);
  }
  return { profile, parts };
}

function check(coordinate: string, parts: string[], depth: Part, shape: string): void {
  const wanted = PARTS.indexOf(depth) + 1;
  if (parts.length < wanted) {
    const missing = PARTS.slice(parts.length, wanted).join(" and ");
    throw new CoordinateProblem(`'${coordinate}' is missing the ${missing} name: write ${shape}`);
  }
  if (parts.length > wanted)
    throw new CoordinateProblem(`'${coordinate}' has too many parts: write ${shape}`);
  parts.forEach((part, i) => {
    const problem = nameProblem(PARTS[i] as Part, part);
    if (problem) throw new CoordinateProblem(`'${coordinate}': ${problem}`);
  });
}

export function parseSchemaCoordinate(coordinate: string, defaultProfile: string | null): SchemaCoordinate {
  const { profile, parts } = split(coordinate, defaultProfile, SHAPES.schema);
  check(coordinate, parts, "schema", SHAPES.schema);
  return { profile, share: parts[0] as string, schema: parts[1] as string };
}

export function parseTableCoordinate(coordinate: string, defaultProfile: string | null): TableCoordinate {
  const { profile, parts } = split(coordinate, defaultProfile, SHAPES.table);
  check(coordinate, parts, "table", SHAPES.table);
  return { profile, share: parts[0] as string, schema: parts[1] as string, table: parts[2] as string };
}

/** `profile#share` or `profile#share.schema` (SHOW TABLES IN …). */
export function parseShareCoordinate(
  coordinate: string,
  defaultProfile: string | null,
): { profile: string; share: string; schema: string | null } {
  const shape = `${SHAPES.share} or ${SHAPES.schema}`;
  const { profile, parts } = split(coordinate, defaultProfile, shape);
  check(coordinate, parts, parts.length === 2 ? "schema" : "share", shape);
  return { profile, share: parts[0] as string, schema: parts[1] ?? null };
}
