// Builds a realistic MLflow experiment (and a registered model over it) through arcuate's own
// MLflow client: many runs, params (one at MLflow's maximum length), long metric histories with
// NaN and ±Infinity, tags, nested runs, dataset inputs, artifacts in nested folders including a
// binary file, and a registered model with several versions, two aliases and a stage. Used by the
// tests, the benchmarks and the demo, so all three exercise the same shapes of data.
import { createHash } from "node:crypto";
import pLimit from "p-limit";
import { LIMITS, type MetricPoint, type MlflowClient, type Tag } from "../mlflow/index.js";

export interface SeedOptions {
  experimentName: string;
  /** Top-level runs; every third gets two nested child runs. Default 6. */
  runs?: number;
  /** Distinct metric keys per run. Default 3. */
  metricsPerRun?: number;
  /** Points per metric history. Default 50. */
  stepsPerMetric?: number;
  /** Artifact files per run (text, JSON, binary, nested). Default true. */
  artifacts?: boolean;
  /** Bytes of the binary artifact per run. Default 64 KiB. */
  binaryArtifactBytes?: number;
  /** Registered model over some of the runs (versions, aliases, a stage). Default: none. */
  modelName?: string;
  /** Versions of the registered model. Default 3. */
  modelVersions?: number;
  /** Base of all timestamps (ms); fixed so seeded data is reproducible. */
  baseTime?: number;
  /** Top-level runs (with their children) seeded at once. Default 1: creation order is run order. */
  concurrency?: number;
}

export interface SeededExperiment {
  experimentId: string;
  runIds: string[];
  /** sha256 of every artifact file, by `runId/path`. */
  artifactSha256: Record<string, string>;
  modelName?: string;
  modelVersions: string[];
}

/** Deterministic bytes for artifacts, so two seeds of the same shape hold the same files. */
export function deterministicBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

function sha256(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function metricHistory(key: string, steps: number, baseTime: number, salt: number): MetricPoint[] {
  const points: MetricPoint[] = [];
  for (let step = 0; step < steps; step++) {
    let value = Math.exp(-step / (10 + salt)) + Math.sin(step + salt) / 100;
    // Special values MLflow must carry: NaN, and the infinities (stored by MLflow's SQL store as
    // ±Number.MAX_VALUE, which is what MLflow itself then reports).
    if (step === 3) value = Number.NaN;
    if (step === 5) value = Number.POSITIVE_INFINITY;
    if (step === 7) value = Number.NEGATIVE_INFINITY;
    points.push({ key, value, step, timestamp: baseTime + step * 1000 + salt });
  }
  return points;
}

async function seedRun(
  client: MlflowClient,
  experimentId: string,
  index: number,
  options: Required<Omit<SeedOptions, "modelName" | "concurrency">>,
  parentRunId: string | undefined,
  artifactSha256: Record<string, string>,
): Promise<string> {
  const start = options.baseTime + index * 60_000;
  const tags: Tag[] = [
    { key: "team", value: index % 2 === 0 ? "growth" : "risk" },
    { key: "mlflow.note.content", value: `Run ${index}: a seeded training run.\nSecond line.` },
  ];
  if (parentRunId) tags.push({ key: "mlflow.parentRunId", value: parentRunId });
  const run = await client.runs.create(experimentId, {
    runName: parentRunId ? `child-${index}` : `train-${index}`,
    startTime: start,
    userId: "seed",
    tags,
  });
  const runId = run.info.run_id;
  const params = [
    { key: "learning_rate", value: String(0.01 * (index + 1)) },
    { key: "max_depth", value: String(3 + (index % 5)) },
    { key: "optimizer", value: index % 2 ? "adam" : "sgd" },
  ];
  if (index === 0) params.push({ key: "long_param", value: "x".repeat(LIMITS.paramValueLength) });
  const metrics: MetricPoint[] = [];
  for (let m = 0; m < options.metricsPerRun; m++) {
    metrics.push(
      ...metricHistory(
        ["loss", "accuracy", "auc", "f1", "rmse"][m % 5] + (m >= 5 ? `_${m}` : ""),
        options.stepsPerMetric,
        start,
        index + m,
      ),
    );
  }
  await client.runs.logBatch(runId, { params, metrics });
  await client.runs.logInputs(runId, {
    datasets: [
      {
        tags: [{ key: "mlflow.data.context", value: index % 2 ? "training" : "evaluation" }],
        dataset: {
          name: "churn-train",
          digest: sha256(`dataset-${index % 2}`).slice(0, 8),
          source_type: "local",
          source: JSON.stringify({ uri: "/data/churn.csv" }),
          schema: JSON.stringify({ mlflow_colspec: [{ type: "double", name: "tenure" }] }),
          profile: JSON.stringify({ num_rows: 1000 + index }),
        },
      },
    ],
  });
  if (options.artifacts) {
    const root = run.info.artifact_uri!;
    const files: Array<[string, Uint8Array]> = [
      ["README.md", new TextEncoder().encode(`# Run ${index}\n`)],
      [
        "config/params.json",
        new TextEncoder().encode(
          JSON.stringify(Object.fromEntries(params.slice(0, 3).map((p) => [p.key, p.value]))),
        ),
      ],
      ["model/weights/weights.bin", deterministicBytes(options.binaryArtifactBytes, index + 1)],
      ["plots/nested/deeper/curve.csv", new TextEncoder().encode("step,loss\n0,1.0\n1,0.5\n")],
    ];
    for (const [path, bytes] of files) {
      await client.artifacts.upload(root, path, () => oneChunk(bytes));
      artifactSha256[`${runId}/${path}`] = sha256(bytes);
    }
  }
  await client.runs.update(runId, {
    status: index % 7 === 6 ? "FAILED" : "FINISHED",
    endTime: start + options.stepsPerMetric * 1000 + 500,
  });
  return runId;
}

async function* oneChunk(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

export async function seedExperiment(client: MlflowClient, options: SeedOptions): Promise<SeededExperiment> {
  const resolved = {
    experimentName: options.experimentName,
    runs: options.runs ?? 6,
    metricsPerRun: options.metricsPerRun ?? 3,
    stepsPerMetric: options.stepsPerMetric ?? 50,
    artifacts: options.artifacts ?? true,
    binaryArtifactBytes: options.binaryArtifactBytes ?? 64 * 1024,
    modelVersions: options.modelVersions ?? 3,
    baseTime: options.baseTime ?? Date.UTC(2026, 0, 15, 9, 0, 0),
  };
  const experimentId = await client.experiments.create(options.experimentName, {
    tags: [
      { key: "project", value: "churn" },
      { key: "mlflow.note.content", value: "Seeded by arcuate." },
    ],
  });
  const artifactSha256: Record<string, string> = {};
  // Every third top-level run has two children; a group's indexes do not depend on timing.
  const groups: Array<{ first: number; children: number }> = [];
  for (let r = 0, index = 0; r < resolved.runs; r++) {
    const children = r % 3 === 0 ? 2 : 0;
    groups.push({ first: index, children });
    index += 1 + children;
  }
  const limit = pLimit(options.concurrency ?? 1);
  const groupRunIds = await Promise.all(
    groups.map(({ first, children }) =>
      limit(async () => {
        const parent = await seedRun(client, experimentId, first, resolved, undefined, artifactSha256);
        const ids = [parent];
        for (let c = 1; c <= children; c++) {
          ids.push(await seedRun(client, experimentId, first + c, resolved, parent, artifactSha256));
        }
        return ids;
      }),
    ),
  );
  const runIds = groupRunIds.flat();
  const modelVersions: string[] = [];
  if (options.modelName) {
    await client.models.create(options.modelName, {
      description: "Churn classifier, seeded.",
      tags: [{ key: "owner", value: "ml-platform" }],
    });
    const topLevel = runIds.filter((_, i) => i === 0 || i % 3 !== 0);
    for (let v = 0; v < resolved.modelVersions; v++) {
      const runId = topLevel[v % topLevel.length]!;
      const run = await client.runs.get(runId);
      const version = await client.versions.create(options.modelName, {
        source: `${run.info.artifact_uri}/model`,
        runId,
        description: `Version ${v + 1}`,
        tags: [{ key: "validated", value: v % 2 ? "false" : "true" }],
      });
      modelVersions.push(version.version);
    }
    await client.models.setAlias(options.modelName, "champion", modelVersions[modelVersions.length - 1]!);
    await client.models.setAlias(options.modelName, "challenger", modelVersions[0]!);
    await client.versions.transitionStage(options.modelName, modelVersions[0]!, "Staging");
  }
  return {
    experimentId,
    runIds,
    artifactSha256,
    ...(options.modelName ? { modelName: options.modelName } : {}),
    modelVersions,
  };
}
