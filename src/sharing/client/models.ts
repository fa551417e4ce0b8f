// OpenSharing model assets from any OpenSharing server (`spec/protocols/ML_MODELS.md`): list
// models and versions, resolve aliases, ask for temporary credentials, and download a version's
// files from its `storageLocation` with them. Nothing here needs arcuate on the other side: only
// the model endpoints and the object store they point at.
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { isS3Location, LocalStorage, S3Storage, type Storage } from "../../delta/index.js";
import { ArcuateError, ProtocolError } from "../../errors.js";
import {
  MODEL_ALIASES_HEADER,
  type ModelVersionInfo,
  type RegisteredModelInfo,
  type TemporaryCredentials,
} from "../models.js";
import type { Page } from "../protocol.js";
import { type HttpOptions, SharingHttp } from "./http.js";
import type { SharingProfile } from "./profile.js";

/** A model by its coordinates in a share. */
export interface ModelRef {
  share: string;
  schema: string;
  model: string;
}

/** Reads one version's files from its storage location, given the credentials vended for it. */
export type VersionFileReader = (
  storageLocation: string,
  credentials: TemporaryCredentials | undefined,
  targetDir: string,
) => Promise<string[]>;

export interface ModelClientOptions extends HttpOptions {
  /** Page size asked of listings (the server may return fewer). */
  maxResults?: number;
  /** Readers by URL scheme, beside (or instead of) the built-in `file:`, `s3:` and `s3a:` readers. */
  readers?: Record<string, VersionFileReader>;
  /**
   * Endpoint of the S3-compatible server behind `s3://` locations. Default: AWS_ENDPOINT_URL_S3,
   * else AWS_ENDPOINT_URL, else AWS itself (the spec's credentials carry no endpoint).
   */
  s3Endpoint?: string;
}

const MAX_PAGES = 100_000;
const CREDENTIAL_ENDPOINTS = ["temporary-model-version-credentials", "temporary-model-credentials"];

export class ModelSharingClient {
  readonly http: SharingHttp;

  constructor(
    readonly profile: SharingProfile,
    private readonly options: ModelClientOptions = {},
  ) {
    this.http = new SharingHttp(profile, options);
  }

  listAllModels(share: string): Promise<RegisteredModelInfo[]> {
    return this.paginate<RegisteredModelInfo>(`/shares/${enc(share)}/all-models`);
  }

  listModels(share: string, schema: string): Promise<RegisteredModelInfo[]> {
    return this.paginate<RegisteredModelInfo>(`/shares/${enc(share)}/schemas/${enc(schema)}/models`);
  }

  async getModel(ref: ModelRef): Promise<RegisteredModelInfo> {
    return (await this.http.json<RegisteredModelInfo>({ method: "GET", path: modelPath(ref) })).body;
  }

  /** READY versions, in version order (the server's order is not promised). */
  async listVersions(ref: ModelRef): Promise<ModelVersionInfo[]> {
    const versions = await this.paginate<ModelVersionInfo>(`${modelPath(ref)}/versions`, {
      [MODEL_ALIASES_HEADER]: "true",
    });
    for (const v of versions) checkVersion(v, ref);
    return versions.sort((a, b) => a.version - b.version);
  }

  async getVersion(ref: ModelRef, version: number): Promise<ModelVersionInfo> {
    const { body } = await this.http.json<ModelVersionInfo>({
      method: "GET",
      path: `${modelPath(ref)}/versions/${version}`,
      headers: { [MODEL_ALIASES_HEADER]: "true" },
    });
    return checkVersion(body, ref);
  }

  async getVersionByAlias(ref: ModelRef, alias: string): Promise<ModelVersionInfo> {
    const { body } = await this.http.json<ModelVersionInfo>({
      method: "GET",
      path: `${modelPath(ref)}/aliases/${enc(alias)}`,
      headers: { [MODEL_ALIASES_HEADER]: "true" },
    });
    return checkVersion(body, ref);
  }

  /**
   * Temporary credentials for a version's files, from the endpoint the spec names
   * (`temporary-model-version-credentials`), else the README's `temporary-model-credentials`.
   */
  async temporaryCredentials(ref: ModelRef, version: number): Promise<TemporaryCredentials> {
    const ask = async (endpoint: string) => {
      const { body } = await this.http.json<TemporaryCredentials>({
        method: "POST",
        path: `${modelPath(ref)}/versions/${version}/${endpoint}`,
        body: {},
      });
      if (typeof body.expirationTime !== "number")
        throw new ProtocolError(`sharing: ${endpoint} answered without an expirationTime`, {
          code: "INTERNAL_ERROR",
        });
      return body;
    };
    try {
      return await ask(CREDENTIAL_ENDPOINTS[0]!);
    } catch (first) {
      // A 404 may be a server that spells the endpoint the other way; its answer decides.
      if (!(first instanceof ArcuateError && first.code === "RESOURCE_DOES_NOT_EXIST")) throw first;
      try {
        return await ask(CREDENTIAL_ENDPOINTS[1]!);
      } catch (second) {
        throw second instanceof ArcuateError && second.code === "RESOURCE_DOES_NOT_EXIST" ? first : second;
      }
    }
  }

  /**
   * Downloads a version's files into `targetDir` (relative paths kept) and returns them. Local
   * (`file:`) locations are read directly without asking for credentials; any other location is
   * read with the credentials the server vends for it.
   */
  async downloadVersion(ref: ModelRef, version: ModelVersionInfo, targetDir: string): Promise<string[]> {
    const location = version.storageLocation;
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(location)?.[1]?.toLowerCase();
    if (!scheme)
      throw new ProtocolError(
        `sharing: version ${version.version} has no storage location URL: '${location}'`,
      );
    const readers: Record<string, VersionFileReader> = {
      file: readLocalFiles,
      s3: s3Reader(this.options.s3Endpoint),
      s3a: s3Reader(this.options.s3Endpoint),
      ...this.options.readers,
    };
    const reader = readers[scheme];
    if (!reader) {
      throw new ArcuateError(
        "UNSUPPORTED_FEATURE",
        `sharing: version ${version.version} of ${ref.share}.${ref.schema}.${ref.model} is stored at '${location}', which this client cannot read (supported: ${Object.keys(readers).join(", ")})`,
      );
    }
    const credentials = scheme === "file" ? undefined : await this.temporaryCredentials(ref, version.version);
    return reader(location, credentials, targetDir);
  }

  private async paginate<T>(path: string, headers?: Record<string, string>): Promise<T[]> {
    const items: T[] = [];
    const seen = new Set<string>();
    let pageToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const { body } = await this.http.json<Page<T>>({
        method: "GET",
        path,
        query: { maxResults: this.options.maxResults, pageToken },
        ...(headers ? { headers } : {}),
      });
      if (body.items !== undefined && !Array.isArray(body.items))
        throw new ProtocolError(`sharing: GET ${path} returned 'items' that is not an array`, {
          code: "INTERNAL_ERROR",
        });
      items.push(...(body.items ?? []));
      // Missing or empty when no more results remain (ML_MODELS.md, "List All Models").
      if (!body.nextPageToken) return items;
      if (seen.has(body.nextPageToken))
        throw new ProtocolError(`sharing: GET ${path} returned the same page token twice`, {
          code: "INTERNAL_ERROR",
        });
      seen.add(body.nextPageToken);
      pageToken = body.nextPageToken;
    }
    throw new ProtocolError(`sharing: GET ${path} returned more than ${MAX_PAGES} pages`, {
      code: "INTERNAL_ERROR",
    });
  }
}

/** Copies the files of a local (`file:`) storage location, streamed. */
export const readLocalFiles: VersionFileReader = (storageLocation, _credentials, targetDir) =>
  copyFiles(new LocalStorage(fileURLToPath(storageLocation)), targetDir);

/**
 * Reads an `s3://` (or `s3a://`) location with the vended `awsTempCredentials` (or R2's, which
 * speak the same protocol): lists the prefix and streams each object to disk, one at a time.
 */
export function s3Reader(endpoint?: string): VersionFileReader {
  return (storageLocation, credentials, targetDir) => {
    const vended = credentials?.awsTempCredentials ?? credentials?.r2Credentials;
    if (!vended)
      throw new ArcuateError(
        "UNSUPPORTED_FEATURE",
        `sharing: the server vended no AWS credentials for '${storageLocation}' (${Object.keys(credentials ?? {}).join(", ") || "none"})`,
      );
    if (!isS3Location(storageLocation))
      throw new ProtocolError(`sharing: '${storageLocation}' is not an s3:// location`);
    const storage = new S3Storage(storageLocation, {
      ...(endpoint ? { endpoint } : {}),
      credentials: { ...vended, expiration: credentials!.expirationTime },
    });
    return copyFiles(storage, targetDir);
  };
}

async function copyFiles(source: Storage, targetDir: string): Promise<string[]> {
  const paths: string[] = [];
  for (const file of await source.list("")) {
    if (file.path.split("/").some((part) => part === ".." || part === "." || part === ""))
      throw new ProtocolError(`sharing: refusing the file name '${file.path.slice(0, 200)}'`);
    const target = join(targetDir, ...file.path.split("/"));
    await mkdir(dirname(target), { recursive: true });
    await pipeline(source.readStream(file.path), createWriteStream(target));
    paths.push(file.path);
  }
  return paths;
}

function checkVersion(v: ModelVersionInfo, ref: ModelRef): ModelVersionInfo {
  if (typeof v.version !== "number" || !Number.isInteger(v.version) || typeof v.storageLocation !== "string")
    throw new ProtocolError(
      `sharing: a version of ${ref.share}.${ref.schema}.${ref.model} lacks a numeric 'version' or a 'storageLocation'`,
      { code: "INTERNAL_ERROR" },
    );
  return v;
}

export function modelPath(ref: ModelRef): string {
  return `/shares/${enc(ref.share)}/schemas/${enc(ref.schema)}/models/${enc(ref.model)}`;
}

function enc(name: string): string {
  return encodeURIComponent(name);
}
