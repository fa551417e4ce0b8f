// Which MLflow requests a retry may repeat. Reads, updates, tags and log-batch (MLflow keeps one
// copy of an identical metric point, param or tag) come out the same when sent twice; a create
// does not: a `runs/create` whose answer was lost to a reset has made a run, and sending it again
// makes a second one. So a create is retried only when the connection failed before the request
// could reach the server; otherwise it fails with a clear error, and rerunning the statement
// finds what the first attempt made (imports match runs by their `arcuate.source.run_id` tag).
// Trace writes are not creates in this sense: StartTraceV3 (`POST /api/3.0/mlflow/traces`) and the
// OTLP endpoint (`POST /v1/traces`) are keyed by the trace and span ids the request carries, and
// MLflow stores them as upserts (a trace whose id exists is merged, spans by trace and span id:
// `SqlAlchemyStore.start_trace`, `log_spans`), so sending one again cannot make a second trace.

const CREATES = [/\/create$/, /\/mlflow\/logged-models$/];

/** A POST that makes something new each time it is applied. */
export function createsSomething(method: string, path: string): boolean {
  const bare = path.split("?")[0]!;
  return method === "POST" && CREATES.some((re) => re.test(bare));
}

/** Connection failures that happen before a request is sent: the server saw nothing. */
const NEVER_SENT = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);

export function neverReachedServer(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === "string" && NEVER_SENT.has(cause.code);
}
