// What the runtime's steps share: the provider's catalog (opened once per location and kept), and
// clients of MLflow, of a Delta Sharing profile and of OpenSharing model endpoints, each made for
// the step that needs it from the step's own arguments.
import { resolve } from "node:path";
import { ConfigurationError } from "../errors.js";
import type { ProgressEvent as ExchangeProgress } from "../exchange/index.js";
import { MlflowClient } from "../mlflow/index.js";
import { Catalog } from "../sharing/catalog/catalog.js";
import { resolveCatalogLocation } from "../sharing/catalog/location.js";
import { loadProfile, SharingClient } from "../sharing/client/index.js";
import { ModelSharingClient } from "../sharing/client/models.js";
import type { SchemaCoordinate } from "./plan.js";
import type { StepContext } from "./runtime.js";

/** Where the provider's catalog lives: the working folder itself (exports go under `tables/`). */
export function catalogDir(workDir: string): string {
  return workDir;
}

const catalogs = new Map<string, Promise<Catalog>>();
export function openCatalog(workDir: string): Promise<Catalog> {
  const dir = resolve(catalogDir(workDir));
  const location = resolveCatalogLocation(undefined, dir); // $ARCUATE_CATALOG, else the folder
  let catalog = catalogs.get(location);
  if (!catalog) {
    catalog = Catalog.open(location, { workDir: dir });
    catalogs.set(location, catalog);
    catalog.catch(() => catalogs.delete(location));
  }
  return catalog;
}

/** The MLflow client of a step; `null` (no server set) only reaches here from a hand-made plan. */
export function mlflowAt(uri: string | null): MlflowClient {
  if (uri === null)
    throw new ConfigurationError("this statement needs an MLflow server: run USE MLFLOW first");
  return new MlflowClient({ trackingUri: uri });
}

/** Relative profile paths are read from the current folder (a notebook's folder in the kernel). */
export async function sharingClient(profile: string): Promise<SharingClient> {
  return new SharingClient(await loadProfile(resolve(profile)));
}

/** A client of the OpenSharing model endpoints, able to read the storage locations they name. */
export async function modelClient(profile: string): Promise<ModelSharingClient> {
  return new ModelSharingClient(await loadProfile(resolve(profile)));
}

export function coordinate(source: SchemaCoordinate): string {
  return `${resolve(source.profile)}#${source.share}.${source.schema}`;
}

export function reporter(context: StepContext): (event: ExchangeProgress) => void {
  return (event) => context.progress(event.message, event.done, event.total);
}
