// What MLflow's own Python client sees of an experiment (and a model), and the normal form two
// such dumps are compared in: server-assigned ids replaced by run names, provenance tags dropped.
import { join } from "node:path";
import { PROJECT_ROOT } from "../support/paths.js";
import { runPythonScriptJson } from "../support/python.js";

/** Tags that differ by design: arcuate's provenance tags, and ids MLflow assigns. */
export const NORMALISED_TAGS = [
  "arcuate.source.run_id",
  "arcuate.source.user_id",
  "arcuate.source.experiment_id",
  "arcuate.source.model_id",
  "arcuate.source.version",
  "arcuate.import.complete_seq",
  "mlflow.parentRunId",
];

interface DumpRun {
  run_id: string;
  run_name: string;
  tags: Record<string, string>;
  [key: string]: unknown;
}
export interface Dump {
  experiment: { name: string; tags: Record<string, string> } | null;
  runs: DumpRun[];
  model: {
    name: string;
    description: string;
    tags: Record<string, string>;
    aliases: Record<string, string>;
    versions: Array<
      Record<string, unknown> & { run_id: string; tags: Record<string, string>; source: string }
    >;
  } | null;
}

/** `python` is the interpreter (an MLflow 2.x server is dumped by its own MLflow). */
export async function dump(uri: string, experiment: string, model?: string, python?: string): Promise<Dump> {
  return runPythonScriptJson<Dump>(join(PROJECT_ROOT, "python", "dump_mlflow.py"), {
    args: model ? [uri, experiment, model] : [uri, experiment],
    timeoutMs: 300_000,
    ...(python ? { python } : {}),
  });
}

/** Replaces run ids by run names, drops the normalised tags; the rest must match exactly. */
export function normalise(d: Dump): unknown {
  const nameOf = new Map(d.runs.map((r) => [r.run_id, r.run_name]));
  const strip = (tags: Record<string, string>) =>
    Object.fromEntries(Object.entries(tags).filter(([k]) => !NORMALISED_TAGS.includes(k)));
  return {
    experimentTags: d.experiment ? strip(d.experiment.tags) : null,
    runs: d.runs.map((r) => ({
      ...r,
      run_id: undefined,
      parent: nameOf.get(r.tags["mlflow.parentRunId"] ?? "") ?? null,
      tags: strip(r.tags),
    })),
    model: d.model && {
      ...d.model,
      name: undefined,
      tags: strip(d.model.tags),
      versions: d.model.versions.map((v) => ({
        ...v,
        run_id: v.run_id ? (nameOf.get(v.run_id) ?? "(other experiment)") : null,
        source: undefined,
        tags: strip(v.tags),
      })),
    },
  };
}
