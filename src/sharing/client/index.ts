// The Delta Sharing client's public surface: profiles, coordinates, the client, and its options.
export {
  type ChangesOptions,
  type QueryOptions,
  type SharedTableInfo,
  type SharedTableRef,
  SharingClient,
  type SharingClientOptions,
  tablePath,
} from "./client.js";
export type { HttpOptions, RetryOptions } from "./http.js";
export { CHANGE_TYPE, COMMIT_TIMESTAMP, COMMIT_VERSION, type OpenedQuery } from "./load.js";
export {
  assertProfileUsable,
  CURRENT_PROFILE_VERSION,
  isOAuthProfile,
  isProfileExpired,
  loadProfile,
  parseCoordinate,
  parseLocation,
  parseProfile,
  parseProfileText,
  type SharingLocation,
  type SharingProfile,
  type TableCoordinate,
} from "./profile.js";
export { CLIENT_READER_FEATURES } from "./read-file.js";
export type {
  SharedFile,
  SharedFileKind,
  SharedMetadata,
  SharedProtocol,
  TableResponse,
} from "./response.js";
