// MLflow tracking servers on PostgreSQL, as teams run them in production: one throw-away
// PostgreSQL cluster (src/peers/postgres.ts) holding one database per server, each server with
// MLflow's default worker count unless told otherwise. Used by the tests (the exchange's fidelity
// test runs on both backends) and by bench/exchange.ts. SQLAlchemy 2.1 needs the driver named in
// the store URI (`postgresql+psycopg2://`); psycopg2-binary is pinned in python/requirements.txt.
import { join } from "node:path";
import { type MlflowServer, type MlflowServerOptions, startMlflowServer } from "./mlflow-server.js";
import { type PostgresServer, startPostgres } from "./postgres.js";

export interface PostgresMlflowOptions {
  /** Folder for the servers' artifacts and logs (one sub-folder per server). */
  dir: string;
  mlflowBin: string;
  /** One server per name, each with its own database of that name. */
  names: string[];
  /** Default: MLflow's own (4 workers per server). */
  workers?: MlflowServerOptions["workers"];
  /** How long each server may take to answer /health. Default 5 minutes: four workers each import
   * MLflow, which on a loaded two-core machine takes long. */
  startTimeoutMs?: number;
}

export interface PostgresMlflow {
  readonly postgres: PostgresServer;
  /** The servers, in the order of `names`. */
  readonly servers: MlflowServer[];
  /** Stops the servers, then the cluster, and deletes the cluster. */
  stop(): Promise<void>;
}

/**
 * uvicorn ends a worker that does not answer its supervisor's ping within 5 s, mid-request; on a
 * loaded two-core machine a worker busy with a large log-batch misses it, and its clients see the
 * connection cut. A minute of patience keeps MLflow's defaults otherwise.
 */
export const UVICORN_PATIENCE = "--timeout-worker-healthcheck 60";

/** The SQLAlchemy store URI of a database in the cluster. */
export function mlflowStoreUri(postgres: PostgresServer, database: string): string {
  return postgres.url(database).replace(/^postgres:/, "postgresql+psycopg2:");
}

export async function startPostgresMlflow(options: PostgresMlflowOptions): Promise<PostgresMlflow> {
  const postgres = await startPostgres();
  const servers: MlflowServer[] = [];
  try {
    for (const name of options.names) await postgres.createDatabase(name);
    // Side by side: each server migrates its own database at start; a failure stops the others.
    const started = await Promise.allSettled(
      options.names.map((name) =>
        startMlflowServer({
          dir: join(options.dir, name),
          mlflowBin: options.mlflowBin,
          backendStoreUri: mlflowStoreUri(postgres, name),
          workers: options.workers ?? "mlflow-default",
          startTimeoutMs: options.startTimeoutMs ?? 300_000,
          extraArgs: ["--uvicorn-opts", UVICORN_PATIENCE],
        }),
      ),
    );
    for (const result of started) if (result.status === "fulfilled") servers.push(result.value);
    for (const result of started) if (result.status === "rejected") throw result.reason;
  } catch (error) {
    await Promise.all(servers.map((server) => server.stop()));
    await postgres.destroy();
    throw error;
  }
  return {
    postgres,
    servers,
    stop: async () => {
      await Promise.all(servers.map((server) => server.stop()));
      await postgres.destroy();
    },
  };
}
