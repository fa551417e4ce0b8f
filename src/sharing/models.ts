// OpenSharing ML model assets, shared by server, client and export: the wire types of
// `spec/protocols/ML_MODELS.md` and `CREDENTIALS.md` (OpenSharing), and where an arcuate model
// export keeps each version's MLflow model files, so the exporter that writes them and the
// server that describes them agree without consulting each other.
//
// Layout, beside the export's Delta tables (`…/<share>/<schema>/versions` is the index table):
//   …/<share>/<schema>/model_versions/<n>/        the version's MLflow model directory, plain files
//   …/<share>/<schema>/model_versions/<n>.json    its manifest, written after every file
// The manifest lies outside the version's prefix, so credentials scoped to `<n>/` do not cover it,
// and `<n>/` never covers `<n>0/`.
import { fileURLToPath, pathToFileURL } from "node:url";
import { LocalStorage, type Storage, storageForLocation } from "../delta/index.js";
import { ArcuateError } from "../errors.js";

/** `RegisteredModel` (ML_MODELS.md, "RegisteredModel Object"). */
export interface RegisteredModelInfo {
  name: string;
  schema: string;
  share: string;
  shareId?: string;
  id?: string;
  comment?: string;
  storageLocation?: string;
}

export type ModelVersionStatus = "PENDING_REGISTRATION" | "FAILED_REGISTRATION" | "READY";

/** `ModelVersion` (ML_MODELS.md, "ModelVersion Object"). */
export interface ModelVersionInfo {
  modelName: string;
  schema: string;
  share: string;
  version: number;
  status: ModelVersionStatus;
  storageLocation: string;
  id?: string;
  source?: string;
  runId?: string;
  comment?: string;
  /** arcuate's extension, sent only when the request carries {@link MODEL_ALIASES_HEADER}. */
  aliases?: string[];
}

/** A request header asking for the `aliases` of each version (the spec's objects have none). */
export const MODEL_ALIASES_HEADER = "arcuate-model-aliases";

export interface AwsTempCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

/** `TemporaryCredentials` (CREDENTIALS.md): one kind of credentials and `expirationTime` (epoch ms). */
export interface TemporaryCredentials {
  awsTempCredentials?: AwsTempCredentials;
  azureUserDelegationSas?: { sasToken: string };
  gcpOauthToken?: { oauthToken: string };
  r2Credentials?: AwsTempCredentials;
  expirationTime: number;
}

/** One file of a version's model directory, as the manifest lists it. */
export interface ModelFileEntry {
  /** Relative to the version's prefix, `/`-separated. */
  path: string;
  size: number;
  sha256: string;
}

/** `model_versions/<n>.json`: what the export wrote for one version. */
export interface ModelFilesManifest {
  version: number;
  /** The provider's `source` of the version, to tell whether the files must be written again. */
  source: string;
  files: ModelFileEntry[];
  writtenAt: string;
}

/** The folder (URL or path, as the table's location is written) of an export's model files. */
export function modelFilesRoot(versionsTableLocation: string): string {
  const trimmed = versionsTableLocation.replace(/\/+$/, "");
  const slash = trimmed.lastIndexOf("/");
  if (slash < 0)
    throw new ArcuateError("INVALID_PARAMETER_VALUE", `sharing: '${trimmed}' is not a table location`);
  return `${trimmed.slice(0, slash)}/model_versions`;
}

/** Path of a version's prefix relative to the model files root: `<n>/`. */
export function versionPrefix(version: number): string {
  return `${version}/`;
}

/** Path of a version's manifest relative to the model files root. */
export function manifestPath(version: number): string {
  return `${version}.json`;
}

/**
 * The URL recipients see for a location: `s3://…` as it is; a local folder as a `file://` URL
 * (readable only on the provider's machine; see docs/opensharing.md).
 */
export function locationUrl(location: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) return location;
  return pathToFileURL(location).href;
}

/** Whether a location is on object storage (where credentials can be vended). */
export function isObjectStorage(location: string): boolean {
  return /^s3a?:\/\//i.test(location);
}

/** The Storage rooted at a location: local folders and `file://` URLs. */
export function storageAt(location: string): Storage {
  if (location.startsWith("file:")) return new LocalStorage(fileURLToPath(location));
  if (location.startsWith("/")) return new LocalStorage(location);
  if (isObjectStorage(location)) return storageForLocation(location);
  throw new ArcuateError(
    "UNSUPPORTED_FEATURE",
    `sharing: model files at '${location}' need object storage support, which this build lacks`,
  );
}
