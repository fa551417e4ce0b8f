// The reference Delta Sharing server's YAML configuration as a read-only catalog:
//
//   version: 1
//   shares:
//   - name: share1
//     schemas:
//     - name: schema1
//       tables:
//       - name: table1
//         location: /data/table1        # or file:///data/table1; relative to the config file
//         id: 00000000-0000-0000-0000-000000000000   # optional
//         historyShared: true            # optional, false by default as in the reference server
//   authorization:
//     bearerToken: <token>               # optional; without it the server is open
//   host: localhost
//   port: 8080
//   endpoint: /delta-sharing
//   preSignedUrlTimeoutSeconds: 3600
//
// The file is re-read when it changes, so editing it takes effect without a restart.
import { createHash, randomBytes } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse } from "yaml";
import { ArcuateError } from "../../errors.js";
import { type NameKind, nameKey, nameProblem } from "../protocol.js";
import { tableLocationPath } from "./rules.js";
import type { CatalogView, ServerSettings, ShareEntry, SharingCatalog } from "./state.js";
import { OpenView } from "./view.js";

export interface YamlConfig extends ServerSettings {
  shares: ShareEntry[];
  bearerToken?: string;
}

export class YamlCatalog implements SharingCatalog {
  // File URLs signed by one process stay valid only while it runs: the YAML has no secret store.
  private readonly key = randomBytes(32);
  private cached?: { ino: bigint; mtimeNs: bigint; config: YamlConfig; view: OpenView };

  private constructor(
    readonly path: string,
    readonly settings: ServerSettings,
  ) {}

  static async open(path: string): Promise<YamlCatalog> {
    const absolute = resolve(path);
    const config = parseYamlConfig(await readFile(absolute, "utf8"), absolute);
    const { shares: _shares, bearerToken: _token, ...settings } = config;
    const catalog = new YamlCatalog(absolute, settings);
    await catalog.view();
    return catalog;
  }

  async view(): Promise<CatalogView> {
    const info = await stat(this.path, { bigint: true });
    if (this.cached && this.cached.ino === info.ino && this.cached.mtimeNs === info.mtimeNs)
      return this.cached.view;
    const config = parseYamlConfig(await readFile(this.path, "utf8"), this.path);
    const view = new OpenView(config.shares, config.bearerToken);
    this.cached = { ino: info.ino, mtimeNs: info.mtimeNs, config, view };
    return view;
  }

  async signingKey(): Promise<Buffer> {
    return this.key;
  }
}

/** Parses and checks a reference-server config; `path` names the file in errors and anchors relative locations. */
export function parseYamlConfig(text: string, path: string): YamlConfig {
  const fail = (what: string): never => {
    throw new ArcuateError("INVALID_PARAMETER_VALUE", `config: ${path}: ${what}`);
  };
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    throw new ArcuateError("INVALID_PARAMETER_VALUE", `config: ${path} is not valid YAML`, { cause: error });
  }
  if (!isRecord(doc)) return fail("expected a mapping at the top level");
  if (doc.version !== 1) fail(`version must be 1, not ${JSON.stringify(doc.version)}`);
  const config: YamlConfig = { shares: [] };
  const created = new Date(0).toISOString();
  for (const share of list(doc.shares, "shares", fail)) {
    const shareName = name(share, "share", fail);
    if (config.shares.some((s) => nameKey(s.name) === nameKey(shareName)))
      fail(`share '${shareName}' appears twice`);
    const entry: ShareEntry = {
      name: shareName,
      id: stableId(`share:${shareName}`),
      createdAt: created,
      schemas: [],
    };
    for (const schema of list(share.schemas, `share '${shareName}' schemas`, fail)) {
      const schemaName = name(schema, "schema", fail);
      const tables = list(schema.tables, `schema '${shareName}.${schemaName}' tables`, fail).map((table) => {
        const tableName = name(table, "table", fail);
        if (typeof table.location !== "string" || table.location === "") {
          fail(`table '${shareName}.${schemaName}.${tableName}' has no location`);
        }
        const location = String(table.location);
        const local =
          /^[a-z][a-z0-9+.-]*:\/\//i.test(location) || isAbsolute(location)
            ? location
            : resolve(dirname(path), location);
        return {
          name: tableName,
          id:
            typeof table.id === "string" && table.id !== ""
              ? table.id
              : stableId(`table:${shareName}.${schemaName}.${tableName}`),
          location: tableLocationPath(local),
          historyShared: table.historyShared === true,
          addedAt: created,
        };
      });
      entry.schemas.push({ name: schemaName, tables });
    }
    config.shares.push(entry);
  }
  if (doc.authorization !== undefined && doc.authorization !== null) {
    if (
      !isRecord(doc.authorization) ||
      typeof doc.authorization.bearerToken !== "string" ||
      doc.authorization.bearerToken === ""
    ) {
      fail("authorization.bearerToken must be a non-empty string");
    } else {
      config.bearerToken = doc.authorization.bearerToken;
    }
  }
  if (doc.host !== undefined) config.host = String(doc.host);
  if (doc.port !== undefined) {
    if (!Number.isInteger(doc.port) || (doc.port as number) < 0 || (doc.port as number) > 65535)
      fail("port must be 0..65535");
    config.port = doc.port as number;
  }
  if (doc.endpoint !== undefined) {
    if (typeof doc.endpoint !== "string" || !doc.endpoint.startsWith("/"))
      fail("endpoint must be a path starting with '/'");
    config.endpoint = doc.endpoint as string;
  }
  if (doc.preSignedUrlTimeoutSeconds !== undefined) {
    const seconds = doc.preSignedUrlTimeoutSeconds;
    if (typeof seconds !== "number" || !(seconds > 0))
      fail("preSignedUrlTimeoutSeconds must be a positive number");
    config.preSignedUrlTimeoutSeconds = seconds as number;
  }
  return config;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function list(value: unknown, what: string, fail: (what: string) => never): Array<Record<string, unknown>> {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every(isRecord)) return fail(`${what} must be a list of mappings`);
  return value;
}

function name(item: Record<string, unknown>, kind: NameKind, fail: (what: string) => never): string {
  if (typeof item.name !== "string") return fail(`a ${kind} has no name`);
  const problem = nameProblem(kind, item.name);
  if (problem) fail(problem);
  return item.name;
}

/** A stable UUID-shaped id derived from a name, so ids survive restarts without being stored. */
function stableId(seed: string): string {
  const hex = createHash("sha256").update(seed).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
