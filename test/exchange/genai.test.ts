// MLflow 3 GenAI assets end to end against real peers: traces (spans, assessments), a prompt and
// an evaluation dataset made through MLflow's own Python API at the provider, exported into a
// share, served by arcuate's sharing server, imported at the recipient, and both sides dumped
// through MLflow's Python client (python/dump_genai.py) and compared. Normalised, and only these:
// the recipient's experiment id in each trace's location, the server-assigned
// `mlflow.artifactLocation` tag, run ids in `mlflow.sourceRun` (compared by run name), and the
// provenance keys arcuate adds (NORMALISED_KEYS). Trace ids, span ids, parents, times,
// assessment ids and times must be equal.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Exchange } from "../../src/exchange/index.js";
import { MlflowClient, type TraceInfo } from "../../src/mlflow/index.js";
import { mlflowServers } from "../support/mlflow.js";
import { PROJECT_ROOT } from "../support/paths.js";
import { runPythonJson, runPythonScriptJson } from "../support/python.js";
import { startTestSharingServer, type TestSharingServer } from "../support/sharing-server.js";

/** Keys arcuate adds at the recipient to say where a thing came from, and MLflow's own that name provider ids. */
const NORMALISED_KEYS = new Set([
  "arcuate.source.experiment_id",
  "arcuate.source.run_id",
  "arcuate.source.model_id",
  "arcuate.source.dataset_id",
  "arcuate.source.prompt",
  "arcuate.source.experiment_ids",
  "_mlflow_experiment_ids",
  "mlflow.artifactLocation",
]);

type Json = Record<string, unknown>;
interface Dump {
  runs: Record<string, string>;
  traces: Array<{ info: Json & { trace_metadata: Record<string, string> }; data: { spans: Json[] } }>;
  prompt: (Json & { tags: Record<string, string> }) | null;
  datasets: Array<{ name: string; tags: Record<string, string>; records: Json[] }>;
}

const dump = (uri: string, experiment: string, prompt: string) =>
  runPythonScriptJson<Dump>(join(PROJECT_ROOT, "python", "dump_genai.py"), {
    args: [uri, experiment, prompt],
    timeoutMs: 300_000,
  });

const strip = (map: Record<string, string> | undefined) =>
  Object.fromEntries(Object.entries(map ?? {}).filter(([k]) => !NORMALISED_KEYS.has(k)));

function normalise(d: Dump): unknown {
  return {
    traces: d.traces.map((t) => {
      const metadata = strip(t.info.trace_metadata);
      const run = metadata["mlflow.sourceRun"];
      if (run) metadata["mlflow.sourceRun"] = `run named ${d.runs[run]}`;
      return {
        ...t,
        info: {
          ...t.info,
          trace_location: undefined,
          trace_metadata: metadata,
          tags: strip(t.info.tags as Record<string, string>),
        },
      };
    }),
    prompt: d.prompt && { ...d.prompt, tags: strip(d.prompt.tags) },
    datasets: d.datasets.map((ds) => ({
      ...ds,
      tags: strip(ds.tags),
      records: [...ds.records].sort((a, b) =>
        JSON.stringify(a.inputs).localeCompare(JSON.stringify(b.inputs)),
      ),
    })),
  };
}

const seed = (uri: string, experiment: string, prompt: string, more = false) =>
  runPythonScriptJson<{ trace_ids: string[] }>(join(PROJECT_ROOT, "python", "seed_genai.py"), {
    args: [uri, experiment, prompt, ...(more ? ["--more"] : [])],
    timeoutMs: 300_000,
  });

/** Generous: two MLflow servers, Python dumps and seeds on a loaded 2-core machine. */
const TIMEOUT = 600_000;

/** Trace ids with their span ids and assessment ids, read through arcuate's MLflow client. */
async function shape(uri: string, experiment: string): Promise<Record<string, unknown>> {
  const mlflow = new MlflowClient({ trackingUri: uri });
  const { experiment_id } = await mlflow.experiments.getByName(experiment);
  const infos: TraceInfo[] = [];
  for await (const info of mlflow.traces.searchAll([experiment_id])) infos.push(info);
  const traces = await mlflow.traces.batchGet(infos.map((t) => t.trace_id));
  return Object.fromEntries(
    traces.map((t) => [
      t.trace_info.trace_id,
      {
        spans: (t.spans ?? []).map((span) => span.span_id).sort(),
        assessments: (infos.find((i) => i.trace_id === t.trace_info.trace_id)?.assessments ?? [])
          .map((a) => a.assessment_id)
          .sort(),
      },
    ]),
  );
}

let providerUri: string;
let recipientUri: string;
let sharing: TestSharingServer;
let profilePath: string;
const id = randomUUID().slice(0, 8);
const names = { experiment: `agent-${id}`, prompt: `qa-${id}`, share: `genai_${id}` };
const provider = () =>
  new Exchange({
    mlflow: new MlflowClient({ trackingUri: providerUri }),
    catalog: sharing.catalog,
    workDir: sharing.dir,
  });
const recipient = () => new Exchange({ mlflow: new MlflowClient({ trackingUri: recipientUri }) });
const coordinate = (schema: string) => `${profilePath}#${names.share}.${schema}`;

beforeAll(async () => {
  ({ provider: providerUri, recipient: recipientUri } = mlflowServers());
  sharing = await startTestSharingServer();
  await seed(providerUri, names.experiment, names.prompt);
  await sharing.catalog.createShare(names.share);
  const exported = await provider().exportExperiments(names.experiment, "agent", names.share);
  expect(exported.skipped).toEqual([]);
  expect(exported.assets.traces?.counts).toEqual({ traces: 3, spans: 12, assessments: 6 });
  await provider().exportPrompts(names.prompt, "qa", names.share);
  profilePath = (await sharing.shareTables({ share: names.share, tables: [] })).profilePath;
}, 600_000);

afterAll(async () => {
  await sharing?.close();
});

describe("GenAI round trip", () => {
  it(
    "recreates traces, spans, assessments, the prompt and the dataset as MLflow's Python client sees them",
    async () => {
      const imported = await recipient().importExperiments(coordinate("agent"), names.experiment);
      expect(imported.assets.traces?.counts).toEqual({ traces: 3, spans: 12, assessments: 6 });
      expect(imported.assets.datasets?.counts).toEqual({ datasets: 1, records: 2 });
      const prompt = await recipient().importPrompts(coordinate("qa"), names.prompt);
      expect(prompt.assets.prompts?.counts).toEqual({ versions: 3, createdVersions: 3 });
      const [before, after] = await Promise.all([
        dump(providerUri, names.experiment, names.prompt),
        dump(recipientUri, names.experiment, names.prompt),
      ]);
      expect(after.traces).toHaveLength(3);
      expect(after.traces.flatMap((t) => t.data.spans)).toHaveLength(12);
      // The seed's exception, events and token usage are there to be compared.
      const spans = JSON.stringify(after.traces);
      expect(spans).toContain("guard rejected the answer");
      expect(spans).toContain("first_token");
      expect(spans).toContain("mlflow.chat.tokenUsage");
      expect(after.traces.filter((t) => t.info.trace_metadata["mlflow.sourceRun"])).toHaveLength(1);
      expect(after.prompt?.aliases).toEqual({ production: 2, staging: 3 });
      expect(normalise(after)).toEqual(normalise(before));
    },
    TIMEOUT,
  );

  it(
    "imports again without adding anything",
    async () => {
      const again = await recipient().importExperiments(coordinate("agent"), names.experiment);
      expect(again.assets.traces?.counts).toEqual({ traces: 0, spans: 0, assessments: 0 });
      expect(again.assets.datasets?.counts).toEqual({ datasets: 0, records: 0 });
      const prompt = await recipient().importPrompts(coordinate("qa"), names.prompt);
      expect(prompt.assets.prompts?.counts).toEqual({ versions: 3, createdVersions: 0 });
      const [before, after] = await Promise.all([
        shape(providerUri, names.experiment),
        shape(recipientUri, names.experiment),
      ]);
      expect(after).toEqual(before);
    },
    TIMEOUT,
  );

  it(
    "lets the official Python connector read every new table",
    async () => {
      const counts = await runPythonJson<Record<string, number>>(
        `
import json, sys, delta_sharing
out = {}
for t in ["traces", "spans", "assessments", "evaluation_datasets", "dataset_records"]:
    out[t] = len(delta_sharing.load_as_pandas(f"{sys.argv[1]}#{sys.argv[2]}.agent.{t}"))
spans = delta_sharing.load_as_pandas(f"{sys.argv[1]}#{sys.argv[2]}.agent.spans")
content = spans.sort_values("chunk_index").groupby(["trace_id", "span_id"]).content_json.sum()
out["with_inputs"] = sum("mlflow.spanInputs" in json.loads(c)["attributes"] for c in content)
out["prompt_versions"] = len(delta_sharing.load_as_pandas(f"{sys.argv[1]}#{sys.argv[2]}.qa.prompt_versions"))
print(json.dumps(out))
`,
        { args: [profilePath, names.share] },
      );
      expect(counts).toEqual({
        traces: 3,
        spans: 12,
        assessments: 6,
        evaluation_datasets: 1,
        dataset_records: 2,
        with_inputs: 12,
        prompt_versions: 3,
      });
    },
    TIMEOUT,
  );

  it(
    "brings exactly what is new after REFRESH: a trace, its assessments, a prompt version, a record",
    async () => {
      await seed(providerUri, names.experiment, names.prompt, true);
      const exported = await provider().exportExperiments(names.experiment, "agent", names.share);
      expect(exported.assets.traces?.counts).toEqual({ traces: 1, spans: 4, assessments: 2 });
      expect(exported.assets.datasets?.counts.records).toBe(1);
      await provider().exportPrompts(names.prompt, "qa", names.share);
      const imported = await recipient().importExperiments(coordinate("agent"), names.experiment);
      expect(imported.assets.traces?.counts).toEqual({ traces: 1, spans: 4, assessments: 2 });
      expect(imported.assets.datasets?.counts).toEqual({ datasets: 0, records: 1 });
      const prompt = await recipient().importPrompts(coordinate("qa"), names.prompt);
      expect(prompt.assets.prompts?.counts).toEqual({ versions: 4, createdVersions: 1 });
      const [before, after] = await Promise.all([
        dump(providerUri, names.experiment, names.prompt),
        dump(recipientUri, names.experiment, names.prompt),
      ]);
      expect(after.traces).toHaveLength(4);
      expect(normalise(after)).toEqual(normalise(before));
    },
    TIMEOUT,
  );

  it(
    "leaves traces out WITHOUT TRACES, and the import says so",
    async () => {
      const exported = await provider().exportExperiments(names.experiment, "runs_only", names.share, {
        traces: false,
      });
      expect(Object.keys(exported.locations)).not.toContain("traces");
      const imported = await recipient().importExperiments(coordinate("runs_only"), `runs-only-${id}`);
      expect(imported.skipped).toEqual([
        `traces: share '${names.share}', schema 'runs_only' on ${sharing.url} has no 'traces' table (exported without traces); none imported`,
      ]);
    },
    TIMEOUT,
  );
});

describe("a GenAI import killed half-way", () => {
  it(
    "completes when run again, with no duplicate trace, span or assessment",
    async () => {
      const experiment = `crash-${names.experiment}`;
      // Trace ids are unique on a server: a crash test needs traces the recipient has not seen.
      await seed(providerUri, experiment, `crash-${names.prompt}`);
      await provider().exportExperiments(experiment, "crash", names.share);
      const child = spawn(
        process.execPath,
        [
          "--import",
          "tsx",
          join(PROJECT_ROOT, "test", "exchange", "import-child.ts"),
          recipientUri,
          coordinate("crash"),
          experiment,
        ],
        {
          cwd: PROJECT_ROOT,
          stdio: ["ignore", "pipe", "pipe"],
          env: { ...process.env, ARCUATE_TEST_FREEZE_AT: "traces" },
        },
      );
      let output = "";
      await new Promise<void>((resolve) => {
        child.stdout.on("data", (chunk: Buffer) => {
          output += chunk.toString();
          // Trace infos and assessments stored, spans not yet: kill it there.
          if (output.includes("frozen") && child.exitCode === null) child.kill("SIGKILL");
        });
        child.on("exit", () => resolve());
      });
      expect(output).toContain("traces: infos of 3 traces stored");
      expect(output).not.toContain("done");
      const again = await recipient().importExperiments(coordinate("crash"), experiment);
      expect(again.assets.traces?.counts).toEqual({ traces: 3, spans: 12, assessments: 6 });
      const [before, after] = await Promise.all([
        shape(providerUri, experiment),
        shape(recipientUri, experiment),
      ]);
      expect(Object.keys(after)).toHaveLength(3);
      expect(after).toEqual(before);
    },
    TIMEOUT,
  );
});
