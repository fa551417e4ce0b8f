// Public surface of src/sharing: the provider's catalog and the Delta Sharing server (the client
// adds its exports here). Named exports only.
export {
  Catalog,
  type CatalogOpenOptions,
  DEFAULT_ENDPOINT,
  type RecipientCredentials,
  type RecipientInfo,
  type ShareInfo,
  type TableInfo,
  type TokenOptions,
} from "./catalog/catalog.js";
export type { CatalogView, ServerSettings, SharingCatalog } from "./catalog/state.js";
export { parseYamlConfig, YamlCatalog, type YamlConfig } from "./catalog/yaml-config.js";
export {
  CHANGE_TYPE,
  type ChangesOptions,
  COMMIT_TIMESTAMP,
  COMMIT_VERSION,
  loadProfile,
  parseCoordinate,
  parseLocation,
  type QueryOptions,
  type SharedFile,
  type SharedMetadata,
  type SharedProtocol,
  type SharedTableInfo,
  type SharedTableRef,
  SharingClient,
  type SharingClientOptions,
  type SharingLocation,
  type SharingProfile,
  type TableCoordinate,
} from "./client/index.js";
export { sharingServerCommands } from "./commands.js";
export { type SharingServer, type SharingServerOptions, startSharingServer } from "./server/server.js";
