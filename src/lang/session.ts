// A language session: the state a notebook (or one CLI run) carries between statements (current
// MLflow server and profile) and the four things the kernel asks of the language: execute,
// explain, complete, help.
import { resolve } from "node:path";
import { parse } from "../../grammar/parse.js";
import { type CompileContext, compileScript } from "./compile.js";
import { type Completion, complete, type NameSource } from "./complete.js";
import { CoordinateProblem, parseTableCoordinate } from "./coordinates.js";
import { executePlan, type ProgressEvent, type SessionState, type StatementResult } from "./executor.js";
import { formatPlan } from "./explain.js";
import { help } from "./help.js";
import { defaultRuntime, type Runtime } from "./runtime.js";

export interface SessionOptions {
  /** arcuate's working folder (catalog, exported tables, profiles). */
  workDir: string;
  /** Default: MLFLOW_TRACKING_URI. */
  mlflowUri?: string;
  /** The default profile file for recipient statements. */
  profile?: string;
  /** Resolves :name parameters (notebook variables); undefined means "no such variable". */
  variables?: (name: string) => unknown;
  /** The notebook's variable names, for completing `:name`. */
  variableNames?: () => string[];
  /** Does the steps' work. Default: defaultRuntime(workDir). */
  runtime?: Runtime;
  /** Names for completion. Default: the runtime's listNames. */
  names?: NameSource;
}

export interface ExecuteCallOptions {
  onProgress?: (event: ProgressEvent) => void;
  /** Called as each statement finishes, so its result shows even if a later statement fails. */
  onResult?: (result: StatementResult) => void;
  signal?: AbortSignal;
}

export interface Session {
  /** Parses, compiles and runs every statement in `text` (separated by `;`), in order. */
  execute(text: string, options?: ExecuteCallOptions): Promise<StatementResult[]>;
  /** The plans of the statements in `text`, as EXPLAIN prints them; runs nothing. */
  explain(text: string): string;
  complete(text: string, cursor: number): Promise<Completion>;
  help(topic?: string): string;
}

export function createSession(options: SessionOptions): Session {
  const runtime = options.runtime ?? defaultRuntime(options.workDir);
  const state: SessionState = {
    mlflowUri: options.mlflowUri ?? process.env.MLFLOW_TRACKING_URI ?? null,
    profile: options.profile ?? null,
  };
  const names: NameSource = options.names ?? completionNames(runtime, options, state);
  const compileContext = (): CompileContext => ({
    workDir: options.workDir,
    mlflowUri: state.mlflowUri,
    profile: state.profile,
    variables: options.variables,
  });
  // Every statement is parsed and compiled before the first runs: a typo in the third statement
  // of a cell must not leave the first two done.
  const plan = (text: string) => compileScript(parse(text), compileContext());

  return {
    async execute(text, call = {}) {
      const results: StatementResult[] = [];
      for (const statementPlan of plan(text)) {
        const options = { runtime, state, onProgress: call.onProgress, signal: call.signal };
        const result = await executePlan(statementPlan, options);
        call.onResult?.(result);
        results.push(result);
      }
      return results;
    },
    explain(text) {
      return plan(text)
        .map((p) => {
          const only = p.steps.length === 1 ? p.steps[0] : undefined;
          return formatPlan(only?.step === "explain" ? only.args.plan : p);
        })
        .join("\n\n");
    },
    complete(text, cursor) {
      return complete(text, cursor, names);
    },
    help(topic) {
      return help(topic);
    },
  };
}

/**
 * Completion's names from the runtime. What a share holds changes rarely while someone types, so
 * a table's columns and a profile's tables are fetched once per session and kept (a failed fetch
 * is forgotten, to be tried again on the next Tab).
 */
function completionNames(runtime: Runtime, options: SessionOptions, state: SessionState): NameSource {
  const columns = new Map<string, Promise<string[]>>();
  const tables = new Map<string, Promise<{ share: string; schema: string; name: string }[]>>();
  const cached = <T>(cache: Map<string, Promise<T>>, key: string, fetch: () => Promise<T>): Promise<T> => {
    let found = cache.get(key);
    if (!found) {
      found = fetch();
      cache.set(key, found);
      found.catch(() => cache.delete(key));
    }
    return found;
  };
  return {
    names: (role) => runtime.listNames(role, { workDir: options.workDir, ...state }),
    async columns(coordinate) {
      let table: ReturnType<typeof parseTableCoordinate>;
      try {
        table = parseTableCoordinate(coordinate, state.profile);
      } catch (error) {
        if (error instanceof CoordinateProblem) return [];
        throw error;
      }
      const key = JSON.stringify([resolve(table.profile), table.share, table.schema, table.table]);
      return cached(columns, key, () => runtime.listColumns(table));
    },
    async coordinates(depth, profile) {
      const path = profile ?? state.profile;
      if (!path) return [];
      const all = await cached(tables, resolve(path), () => runtime.listSharedTables(path));
      const parts = all.map((t) => [t.share, t.schema, t.name].slice(0, depth).join("."));
      return [...new Set(parts)];
    },
    variables: () => options.variableNames?.() ?? [],
  };
}
