// The ceiling of bench/exchange.ts: not a tool but the fastest a short dedicated program moves an
// experiment through MLflow's REST API, so arcuate's export and import can be held against what
// the servers themselves allow. Plain fetch, no arcuate code.
//   read:   runs/search (1000 a page), metrics/get-history-bulk (one request per key for as many
//           runs as fit its 25,000-point answer), artifact listings and downloads, all in parallel;
//   write:  runs/create, log-batch at the largest sizes MLflow accepts (1000 entities a request),
//           log-inputs, artifact uploads, runs/update; parents before children.
// Both fan out at a given number of requests in flight; `sweep` finds the best number on a slice
// of the runs. Overload answers (429, 503, the SQL store's pool timeouts as 400) are retried and
// counted, as any client must.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

interface Tag {
  key: string;
  value: string;
}
interface Metric {
  key: string;
  value: number | string;
  timestamp: number | string;
  step: number | string;
  run_id?: string;
}
export interface SourceRun {
  info: {
    run_id: string;
    run_name?: string;
    start_time?: number | string;
    end_time?: number | string;
    status: string;
    user_id?: string;
    artifact_uri: string;
  };
  data: { params?: Tag[]; tags?: Tag[]; metrics?: Metric[] };
  inputs?: { dataset_inputs?: unknown[] };
}
export interface ReadRun {
  run: SourceRun;
  points: Metric[];
  /** Artifact paths under the run's root, downloaded to `dir/<run_id>/<path>`. */
  files: string[];
}

export interface Stats {
  requests: number;
  retried: number;
}

/** A minimal limiter: at most `limit` of the wrapped calls run at once. */
function limiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: Array<() => void> = [];
  return async (task) => {
    if (active >= limit) await new Promise<void>((resolve) => queue.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}

const OVERLOAD = /QueuePool limit|database is locked/;
/**
 * Two runs logging the same new dataset at once race in MLflow's SQL store (both look it up,
 * both insert): the loser's unique-key answer is a 400 whose transaction was rolled back, and
 * sent again it finds the dataset and links it. Any parallel client must retry it.
 */
const DATASET_RACE =
  /UNIQUE constraint failed: datasets\.|duplicate key value violates unique constraint|Duplicate entry .* for key/;

class Rest {
  readonly stats: Stats = { requests: 0, retried: 0 };
  readonly limit: <T>(task: () => Promise<T>) => Promise<T>;
  constructor(
    readonly uri: string,
    concurrency: number,
  ) {
    this.limit = limiter(concurrency);
  }

  async raw(method: string, path: string, body?: string | Uint8Array, json = true): Promise<Response> {
    return this.limit(async () => {
      for (let attempt = 0; ; attempt++) {
        this.stats.requests++;
        let response: Response;
        try {
          response = await fetch(this.uri + path, {
            method,
            ...(body === undefined ? {} : { body }),
            ...(json && body !== undefined ? { headers: { "content-type": "application/json" } } : {}),
          });
        } catch (error) {
          // A connection the server dropped or refused under load: sent again, as any client must.
          if (attempt >= 8) throw error;
          this.stats.retried++;
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 100 * 2 ** attempt));
          continue;
        }
        if (response.ok) return response;
        const text = await response.text();
        const overloaded = response.status === 429 || response.status >= 500 || OVERLOAD.test(text);
        const raced = response.status === 400 && path.endsWith("/runs/log-inputs") && DATASET_RACE.test(text);
        if (!(overloaded || raced) || attempt >= 8)
          throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
        this.stats.retried++;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 100 * 2 ** attempt));
      }
    });
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const response = await this.raw(method, path, body === undefined ? undefined : JSON.stringify(body));
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        // The answer cut off mid-body (a worker restarted under load): asked again.
        if (attempt >= 8) throw error;
        this.stats.retried++;
        continue;
      }
      // Flask's JSON may hold bare NaN/Infinity: quote them before JSON.parse.
      text = text.replace(/:(\s*)(NaN|-?Infinity)(?=\s*[,}\]])/g, ':$1"$2"');
      return (text ? JSON.parse(text) : {}) as T;
    }
  }
}

const proxyPath = (artifactUri: string) => artifactUri.replace(/^mlflow-artifacts:\/*/, "");
const encode = (path: string) => path.split("/").map(encodeURIComponent).join("/");

/** Reads a whole experiment: runs, every metric point, every artifact (to `dir`). */
export async function ceilingRead(
  uri: string,
  experimentName: string,
  dir: string,
  concurrency: number,
  onlyRuns?: number,
): Promise<{ runs: ReadRun[]; stats: Stats }> {
  const rest = new Rest(uri, concurrency);
  const { experiment } = await rest.json<{ experiment: { experiment_id: string } }>(
    "GET",
    `/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(experimentName)}`,
  );
  const runs: SourceRun[] = [];
  let token: string | undefined;
  do {
    const page = await rest.json<{ runs?: SourceRun[]; next_page_token?: string }>(
      "POST",
      "/api/2.0/mlflow/runs/search",
      { experiment_ids: [experiment.experiment_id], max_results: 1000, page_token: token },
    );
    runs.push(...(page.runs ?? []));
    token = page.next_page_token;
  } while (token && (onlyRuns === undefined || runs.length < onlyRuns));
  const chosen = onlyRuns === undefined ? runs : runs.slice(0, onlyRuns);
  const read = new Map<string, ReadRun>(
    chosen.map((run) => [run.info.run_id, { run, points: [], files: [] }]),
  );

  const work: Promise<void>[] = [];
  // Histories: group runs so one key's answer stays under the bulk endpoint's 25,000 points.
  const steps = Math.max(1, ...chosen.flatMap((r) => (r.data.metrics ?? []).map((m) => Number(m.step) + 1)));
  const groupSize = Math.max(1, Math.min(100, Math.floor(25_000 / steps)));
  const keys = [...new Set(chosen.flatMap((r) => (r.data.metrics ?? []).map((m) => m.key)))];
  for (let i = 0; i < chosen.length; i += groupSize) {
    const ids = chosen.slice(i, i + groupSize).map((r) => r.info.run_id);
    for (const key of keys) {
      const query = `${ids.map((id) => `run_id=${id}`).join("&")}&metric_key=${encodeURIComponent(key)}&max_results=25000`;
      work.push(
        rest
          .json<{ metrics?: Metric[] }>("GET", `/ajax-api/2.0/mlflow/metrics/get-history-bulk?${query}`)
          .then((reply) => {
            for (const m of reply.metrics ?? []) read.get(m.run_id!)!.points.push(m);
          }),
      );
    }
  }
  // Artifacts: list each run's tree, download every file.
  const listAndFetch = async (run: ReadRun, root: string, sub: string): Promise<void> => {
    const reply = await rest.json<{ files?: Array<{ path: string; is_dir?: boolean }> }>(
      "GET",
      `/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(sub ? `${root}/${sub}` : root)}`,
    );
    await Promise.all(
      (reply.files ?? []).map(async (file) => {
        const path = sub ? `${sub}/${file.path}` : file.path;
        if (file.is_dir) return listAndFetch(run, root, path);
        const target = join(dir, run.run.info.run_id, path);
        mkdirSync(dirname(target), { recursive: true });
        for (let attempt = 0; ; attempt++) {
          const url = `/api/2.0/mlflow-artifacts/artifacts/${encode(`${root}/${path}`)}`;
          const response = await rest.raw("GET", url);
          try {
            writeFileSync(target, new Uint8Array(await response.arrayBuffer()));
            break;
          } catch (error) {
            if (attempt >= 8) throw error;
            rest.stats.retried++;
          }
        }
        run.files.push(path);
      }),
    );
  };
  for (const run of read.values()) work.push(listAndFetch(run, proxyPath(run.run.info.artifact_uri), ""));
  await Promise.all(work);
  return { runs: [...read.values()], stats: rest.stats };
}

/** Replays read runs into a new experiment at `uri`. */
export async function ceilingWrite(
  uri: string,
  runs: ReadRun[],
  dir: string,
  experimentName: string,
  concurrency: number,
): Promise<Stats> {
  const rest = new Rest(uri, concurrency);
  const { experiment_id } = await rest.json<{ experiment_id: string }>(
    "POST",
    "/api/2.0/mlflow/experiments/create",
    {
      name: experimentName,
    },
  );
  const targetIds = new Map<string, string>();
  const parentOf = (run: SourceRun) => run.data.tags?.find((t) => t.key === "mlflow.parentRunId")?.value;
  const levels: ReadRun[][] = [[], []];
  for (const run of runs) levels[parentOf(run.run) ? 1 : 0]!.push(run);
  for (const level of levels) {
    await Promise.all(
      level.map(async ({ run, points, files }) => {
        const { run: created } = await rest.json<{ run: SourceRun }>("POST", "/api/2.0/mlflow/runs/create", {
          experiment_id,
          run_name: run.info.run_name,
          start_time: Number(run.info.start_time),
          user_id: run.info.user_id,
        });
        const id = created.info.run_id;
        targetIds.set(run.info.run_id, id);
        const parent = parentOf(run);
        const tags = (run.data.tags ?? [])
          .filter((t) => t.key !== "mlflow.parentRunId")
          .concat(parent ? [{ key: "mlflow.parentRunId", value: targetIds.get(parent)! }] : []);
        const params = run.data.params ?? [];
        const metrics = points.map(({ key, value, timestamp, step }) => ({ key, value, timestamp, step }));
        // log-batch: at most 1000 entities (100 params, 100 tags) a request.
        const batches: Array<{ params: Tag[]; tags: Tag[]; metrics: typeof metrics }> = [];
        let first = 1000 - params.length - tags.length;
        batches.push({ params, tags, metrics: metrics.slice(0, first) });
        for (; first < metrics.length; first += 1000)
          batches.push({ params: [], tags: [], metrics: metrics.slice(first, first + 1000) });
        const root = proxyPath(created.info.artifact_uri);
        await Promise.all([
          ...batches.map((batch) =>
            rest.json("POST", "/api/2.0/mlflow/runs/log-batch", { run_id: id, ...batch }),
          ),
          ...(run.inputs?.dataset_inputs?.length
            ? [
                rest.json("POST", "/api/2.0/mlflow/runs/log-inputs", {
                  run_id: id,
                  datasets: run.inputs.dataset_inputs,
                }),
              ]
            : []),
          ...files.map((path) =>
            rest.raw(
              "PUT",
              `/api/2.0/mlflow-artifacts/artifacts/${encode(`${root}/${path}`)}`,
              readFileSync(join(dir, run.info.run_id, path)),
              false,
            ),
          ),
        ]);
        await rest.json("POST", "/api/2.0/mlflow/runs/update", {
          run_id: id,
          status: run.info.status,
          end_time: Number(run.info.end_time),
        });
      }),
    );
  }
  return rest.stats;
}

/** The best of `levels` by time on a slice, the time of each. */
export async function sweep(
  levels: number[],
  trial: (concurrency: number) => Promise<void>,
): Promise<{ best: number; timesMs: Map<number, number> }> {
  const timesMs = new Map<number, number>();
  for (const level of levels) {
    const started = performance.now();
    await trial(level);
    timesMs.set(level, performance.now() - started);
  }
  const best = [...timesMs.entries()].sort((a, b) => a[1] - b[1])[0]![0];
  return { best, timesMs };
}
