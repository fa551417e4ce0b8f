// A tracking server started with `--app-name basic-auth`: without credentials arcuate gets a
// typed auth error; with them (options or the MLflow environment variables) it works.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MlflowAuthError, MlflowClient } from "../../src/mlflow/index.js";
import { type MlflowServer, startMlflowServer } from "../../src/peers/mlflow-server.js";
import { VENV_BIN } from "../support/paths.js";

const ADMIN_PASSWORD = "arcuate-test-Secret-42";
let server: MlflowServer;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "arcuate-auth-"));
  server = await startMlflowServer({
    dir,
    mlflowBin: join(VENV_BIN, "mlflow"),
    extraArgs: ["--app-name", "basic-auth"],
    env: {
      MLFLOW_AUTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
      MLFLOW_FLASK_SERVER_SECRET_KEY: "arcuate-test-csrf-key",
    },
  });
});

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("basic auth", () => {
  it("refuses a client without credentials with a typed auth error", async () => {
    const anonymous = new MlflowClient({ trackingUri: server.uri, maxRetries: 0 });
    const error = await anonymous.experiments.search().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MlflowAuthError);
    expect(error).toMatchObject({ code: "UNAUTHENTICATED", httpStatus: 401 });
  });

  it("refuses a wrong password", async () => {
    const wrong = new MlflowClient({
      trackingUri: server.uri,
      username: "admin",
      password: "nope",
      maxRetries: 0,
    });
    await expect(wrong.experiments.search()).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
  });

  it("works with credentials from options and from MLFLOW_TRACKING_USERNAME/PASSWORD", async () => {
    const withOptions = new MlflowClient({
      trackingUri: server.uri,
      username: "admin",
      password: ADMIN_PASSWORD,
    });
    const id = await withOptions.experiments.create("authed");
    expect((await withOptions.experiments.get(id)).name).toBe("authed");

    const saved = { ...process.env };
    try {
      process.env.MLFLOW_TRACKING_URI = server.uri;
      process.env.MLFLOW_TRACKING_USERNAME = "admin";
      process.env.MLFLOW_TRACKING_PASSWORD = ADMIN_PASSWORD;
      const fromEnv = new MlflowClient();
      expect((await fromEnv.experiments.getByName("authed")).experiment_id).toBe(id);
    } finally {
      process.env = saved;
    }
  });
});
