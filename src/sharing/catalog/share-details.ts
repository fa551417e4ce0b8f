// What a provider tells recipients about a share besides its name: `displayName`, `comment` and
// `properties` (PROTOCOL.md #list-shares), with the protocol's limits checked when they are set,
// so a client never has to truncate what arcuate serves.
import { ProtocolError } from "../../errors.js";
import type { ShareEntry } from "./state.js";

/** A change to a share's details: a string sets, `null` clears; a property set to `null` is removed. */
export interface ShareDetailsChange {
  displayName?: string | null;
  comment?: string | null;
  properties?: Record<string, string | null>;
}

const MAX_DISPLAY_NAME = 255;
const MAX_COMMENT = 65536;
const MAX_PROPERTIES = 50;
const MAX_PROPERTY_KEY = 255;
const MAX_PROPERTY_VALUE = 1000;

/** Applies `change` to `share` in place, after checking every limit (nothing changes on a refusal). */
export function applyShareDetails(share: ShareEntry, change: ShareDetailsChange): void {
  const invalid = (message: string) =>
    new ProtocolError(`catalog: share '${share.name}': ${message}`, { code: "INVALID_PARAMETER_VALUE" });
  if (typeof change.displayName === "string" && [...change.displayName].length > MAX_DISPLAY_NAME)
    throw invalid(`a display name has at most ${MAX_DISPLAY_NAME} characters`);
  if (typeof change.comment === "string" && [...change.comment].length > MAX_COMMENT)
    throw invalid(`a comment has at most ${MAX_COMMENT} characters`);
  const properties = { ...share.properties };
  for (const [key, value] of Object.entries(change.properties ?? {})) {
    if (key === "" || [...key].length > MAX_PROPERTY_KEY)
      throw invalid(`property key '${key.slice(0, 40)}' must have 1 to ${MAX_PROPERTY_KEY} characters`);
    if (value === null) {
      delete properties[key];
      continue;
    }
    if ([...value].length > MAX_PROPERTY_VALUE)
      throw invalid(`property '${key.slice(0, 40)}' has a value over ${MAX_PROPERTY_VALUE} characters`);
    properties[key] = value;
  }
  if (Object.keys(properties).length > MAX_PROPERTIES)
    throw invalid(`a share has at most ${MAX_PROPERTIES} properties`);
  if (change.displayName === null || change.displayName === "") delete share.displayName;
  else if (change.displayName !== undefined) share.displayName = change.displayName;
  if (change.comment === null) delete share.comment;
  else if (change.comment !== undefined) share.comment = change.comment;
  if (change.properties === undefined) return;
  if (Object.keys(properties).length === 0) delete share.properties;
  else share.properties = properties;
}
