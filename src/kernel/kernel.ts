// The arcuate kernel's behaviour, independent of the wire: routes each cell to the language or to
// tslab's executor, renders results, progress and errors, keeps results for later cells, and
// answers completion and inspection. The ZeroMQ side is in server.ts.
//
// Differences from stock tslab, on purpose (DESIGN.md, Kernel): a failed cell (TypeScript or
// %arcuate) sends a Jupyter `error` message and an execute_reply carrying ename, evalue and
// traceback; and a failure aborts only the requests already queued behind it when the client
// asked for stop_on_error, so cells sent afterwards run normally (stock tslab cancelled every
// request for 200 ms after a failure, which emptied the following cells of a headless run).
import {
  type DisplayBundle,
  diagnosticsError,
  type ErrorContent,
  errorContent,
  resultBundle,
  textBundle,
} from "./display.js";
import type { CreateSession, KernelSession } from "./language.js";
import { type Cell, classifyCell, partAt } from "./magic.js";
import { DECLARATION, Results } from "./notebook-global.js";
import { ProgressDisplay } from "./progress.js";
import { type Executor, jupyter } from "./tslab.js";

/** Where a cell's outputs go (iopub messages with the execute request as parent). */
export interface CellIO {
  stream(name: "stdout" | "stderr", text: string): void;
  display(bundle: DisplayBundle, update: boolean): void;
  error(content: ErrorContent): void;
  /** Broadcasts the code being run and its execution count (execute_input). */
  input(code: string, count: number): void;
}

export interface ExecuteRequest {
  code: string;
  silent?: boolean;
  store_history?: boolean;
  stop_on_error?: boolean;
}

export type ExecuteReply =
  | { status: "ok"; execution_count: number; user_expressions: Record<string, never>; payload: [] }
  | ({ status: "error"; execution_count: number } & ErrorContent)
  | { status: "aborted"; execution_count: number };

export interface CompleteReply {
  status: "ok";
  matches: string[];
  cursor_start: number;
  cursor_end: number;
  metadata: Record<string, never>;
}

export interface InspectReply {
  status: "ok";
  found: boolean;
  data: Record<string, string>;
  metadata: Record<string, never>;
}

/** tslab's own answers for plain TypeScript cells (its stock JupyterHandlerImpl). */
export interface TypeScriptHandler {
  handleComplete(req: { code: string; cursor_pos: number }): CompleteReply;
  handleInspect(req: { code: string; cursor_pos: number; detail_level: 0 | 1 }): InspectReply;
  handleIsComplete(req: { code: string }): { status: string; indent?: string };
}

/**
 * The console tslab's executor reports a failed cell to (its error and its compile diagnostics):
 * captured while a cell runs, so the kernel can turn it into a Jupyter error.
 */
export class ExecutorConsole {
  captured: unknown[][] | undefined;

  log(...args: unknown[]): void {
    console.log(...args);
  }

  error(...args: unknown[]): void {
    if (this.captured !== undefined) this.captured.push(args);
    else console.error(...args);
  }
}

export interface KernelDeps {
  executor: Executor;
  /** The console `executor` was created with. */
  console: ExecutorConsole;
  typescript: TypeScriptHandler;
  loadLanguage: () => Promise<CreateSession>;
  workDir: string;
  profile?: string;
}

/** A diagnostic as tslab's executor prints it: console.error("%s%d:%d - %s", file, line, col, text). */
const DIAGNOSTIC_FORMAT = "%s%d:%d - %s";

class CellFailed extends Error {
  constructor(readonly content: ErrorContent) {
    super(content.evalue);
  }
}

export class ArcuateKernel {
  // tslab types display data as text or bytes; JSON values (a chart's spec) pass through it as they are.
  readonly results = new Results((bundle) =>
    jupyter.lastWriteDisplayData?.(
      bundle as unknown as Parameters<typeof jupyter.lastWriteDisplayData>[0],
      false,
    ),
  );
  private executionCount = 0;
  private received = 0;
  /** Execute requests numbered up to this one are aborted (they were queued behind a failure). */
  private abortThrough = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private sessionPromise: Promise<KernelSession> | undefined;
  /** Names of tslab's locals also reachable as globals (see exposeLocals). */
  private readonly exposed = new Set<string>();
  /** Aborts the statements running now (Jupyter's interrupt). */
  private running: AbortController | undefined;

  constructor(private readonly deps: KernelDeps) {}

  /** Declares the `arcuate` results object to tslab and puts its value where cells find it. */
  async prepare(): Promise<void> {
    await this.runTypeScript(DECLARATION);
    this.deps.executor.locals["arcuate"] = this.results;
  }

  /** Runs one execute request after the ones before it. */
  execute(req: ExecuteRequest, io: CellIO): Promise<ExecuteReply> {
    const number = ++this.received;
    const run = this.queue.then(async (): Promise<ExecuteReply> => {
      if (number <= this.abortThrough) return { status: "aborted", execution_count: this.executionCount };
      const reply = await this.executeNow(req, io);
      if (reply.status === "error" && req.stop_on_error !== false) this.abortThrough = this.received;
      return reply;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async executeNow(req: ExecuteRequest, io: CellIO): Promise<ExecuteReply> {
    if (!req.silent && req.store_history !== false) this.executionCount++;
    const count = this.executionCount;
    if (!req.silent) io.input(req.code, count);
    // Like tslab (and ipykernel), output written after a cell finished still goes to that cell.
    process.stdout.write = toStream("stdout", io);
    process.stderr.write = toStream("stderr", io);
    // tslab.display in a cell writes here; tslab has already turned binary data into base64 text.
    jupyter.lastWriteDisplayData = (data, update) => io.display(data as DisplayBundle, update);
    try {
      await this.runCell(classifyCell(req.code), req.code, io);
      return { status: "ok", execution_count: count, user_expressions: {}, payload: [] };
    } catch (error) {
      const content = error instanceof CellFailed ? error.content : errorContent(error);
      if (!req.silent) io.error(content);
      return { status: "error", execution_count: count, ...content };
    }
  }

  private async runCell(cell: Cell, code: string, io: CellIO): Promise<void> {
    switch (cell.kind) {
      case "typescript":
        await this.runTypeScript(code);
        return;
      case "help": {
        const session = await this.session();
        io.display(textBundle(session.help(cell.topic), "arcuate-help"), false);
        return;
      }
      case "magic":
        for (const part of cell.parts) {
          if (part.kind === "typescript") await this.runTypeScript(part.code);
          else await this.runStatements(part.text, io);
        }
        return;
    }
  }

  /** Runs TypeScript through tslab; a failure becomes a CellFailed with what tslab reported. */
  private async runTypeScript(code: string): Promise<void> {
    const captured: unknown[][] = [];
    this.deps.console.captured = captured;
    let ok = false;
    try {
      ok = await this.deps.executor.execute(code);
    } catch (error) {
      captured.push([error]);
    } finally {
      this.deps.console.captured = undefined;
    }
    if (!ok) throw new CellFailed(typeScriptError(code, captured));
    // On success tslab may still report (diagnostics of a `//@module` cell): print them as it would.
    for (const args of captured) console.error(...args);
    this.exposeLocals();
  }

  /**
   * Works around a tslab 1.0.22 bug: it rewrites a reference to an earlier cell's name into a
   * lookup in its locals, except in a shorthand property (`new MlflowClient({ trackingUri })`),
   * which then fails with "trackingUri is not defined". Such a name is found as a global instead:
   * each top-level name gets a global getter and setter onto tslab's locals, unless a global of
   * that name exists already (never shadow `process`, `fetch`, …).
   */
  private exposeLocals(): void {
    const locals = this.deps.executor.locals;
    const global = globalThis as Record<string, unknown>;
    for (const name of Object.keys(locals)) {
      if (this.exposed.has(name) || name in global) continue;
      Object.defineProperty(global, name, {
        get: () => locals[name],
        set: (value: unknown) => {
          locals[name] = value;
        },
        configurable: true,
      });
      this.exposed.add(name);
    }
  }

  private async runStatements(text: string, io: CellIO): Promise<void> {
    const session = await this.session();
    const progress = new ProgressDisplay(io.display);
    let ok = false;
    let results: Awaited<ReturnType<KernelSession["execute"]>>;
    const running = new AbortController();
    this.running = running;
    try {
      results = await session.execute(text, {
        onProgress: (event) => progress.update(event),
        signal: running.signal,
      });
      ok = true;
    } finally {
      this.running = undefined;
      progress.finish(ok);
    }
    for (const result of results) {
      this.results.add(result);
      io.display(resultBundle(result, this.results.maxRows), false);
    }
  }

  /** Stops the running %arcuate statements, if any (TypeScript is interrupted by tslab's executor). */
  interrupt(): void {
    this.running?.abort(new Error("interrupted"));
  }

  /** The language session, created on the first magic cell. */
  private session(): Promise<KernelSession> {
    this.sessionPromise ??= this.deps.loadLanguage().then((createSession) =>
      createSession({
        workDir: this.deps.workDir,
        ...(this.deps.profile === undefined ? {} : { profile: this.deps.profile }),
        // `:name` in a statement: a top-level name of an earlier cell, else a global.
        variables: (name) => {
          const locals = this.deps.executor.locals;
          return name in locals ? locals[name] : (globalThis as Record<string, unknown>)[name];
        },
        // Completing `:name`: the top-level names of the cells run so far.
        variableNames: () => Object.keys(this.deps.executor.locals).filter((name) => name !== "arcuate"),
      }),
    );
    // A language that failed to load is tried again by the next magic cell.
    this.sessionPromise.catch(() => {
      this.sessionPromise = undefined;
    });
    return this.sessionPromise;
  }

  async complete(req: { code: string; cursor_pos: number }): Promise<CompleteReply> {
    const code = req.code;
    const cursor = utf16Offset(code, req.cursor_pos);
    const empty: CompleteReply = {
      status: "ok",
      matches: [],
      cursor_start: req.cursor_pos,
      cursor_end: req.cursor_pos,
      metadata: {},
    };
    const cell = classifyCell(code);
    if (cell.kind === "typescript") return this.deps.typescript.handleComplete(req);
    const part = partAt(cell, cursor);
    if (part === undefined) return empty;
    if (part.kind === "typescript")
      return this.deps.typescript.handleComplete({ code: part.code, cursor_pos: req.cursor_pos });
    try {
      const session = await this.session();
      const found = await session.complete(part.text, cursor);
      return {
        status: "ok",
        matches: found.matches,
        cursor_start: codePointOffset(code, found.cursorStart),
        cursor_end: codePointOffset(code, found.cursorEnd),
        metadata: {},
      };
    } catch {
      // Completion is a convenience: a failure (no language, a server down) offers nothing.
      return empty;
    }
  }

  async inspect(req: { code: string; cursor_pos: number; detail_level: 0 | 1 }): Promise<InspectReply> {
    const notFound: InspectReply = { status: "ok", found: false, data: {}, metadata: {} };
    const cell = classifyCell(req.code);
    if (cell.kind === "typescript") return this.deps.typescript.handleInspect(req);
    const cursor = utf16Offset(req.code, req.cursor_pos);
    const part = partAt(cell, cursor);
    if (part?.kind === "typescript") return this.deps.typescript.handleInspect({ ...req, code: part.code });
    const topics =
      cell.kind === "help" ? [cell.topic] : part === undefined ? [] : helpTopics(part.text, cursor);
    if (topics.length === 0) return notFound;
    try {
      const session = await this.session();
      for (const topic of topics) {
        const text = session.help(topic);
        if (!isNoHelp(text)) return { status: "ok", found: true, data: { "text/plain": text }, metadata: {} };
      }
      return notFound;
    } catch {
      return notFound;
    }
  }

  isComplete(req: { code: string }): { status: string; indent?: string } {
    // A statement cell is complete when the user says so (Shift-Enter); only TypeScript has rules.
    return classifyCell(req.code).kind === "typescript"
      ? this.deps.typescript.handleIsComplete(req)
      : { status: "complete" };
  }
}

/**
 * Help topics for the statement under the cursor, most specific first: its first two words
 * ("CREATE SHARE"), then its first ("SHOW").
 */
export function helpTopics(text: string, cursor: number): string[] {
  const start = text.lastIndexOf(";", cursor - 1) + 1;
  const end = text.indexOf(";", cursor);
  const words = text
    .slice(start, end === -1 ? text.length : end)
    .replace(/--[^\n]*/g, " ")
    .trim()
    .split(/\s+/)
    .filter((word) => /^[A-Za-z]+$/.test(word))
    .map((word) => word.toUpperCase());
  const [first, second] = words;
  if (first === undefined) return [];
  return second === undefined ? [first] : [`${first} ${second}`, first];
}

/** The language answers an unknown topic with "no help on …" and the list of topics. */
function isNoHelp(text: string): boolean {
  return /^no help on\b/i.test(text);
}

function toStream(name: "stdout" | "stderr", io: CellIO): typeof process.stdout.write {
  const decoder = new TextDecoder();
  return ((chunk: string | Uint8Array) => {
    io.stream(name, typeof chunk === "string" ? chunk : decoder.decode(chunk));
    return true;
  }) as typeof process.stdout.write;
}

/** What tslab's executor reported for a failed TypeScript cell, as a Jupyter error. */
export function typeScriptError(code: string, captured: unknown[][]): ErrorContent {
  const diagnostics = captured
    .filter((args) => args[0] === DIAGNOSTIC_FORMAT)
    .map((args) => ({ line: Number(args[2]), column: Number(args[3]), message: String(args[4]) }));
  if (diagnostics.length > 0) return diagnosticsError(code, diagnostics);
  const thrown = captured[0];
  if (thrown === undefined)
    return { ename: "Error", evalue: "the cell failed", traceback: ["Error: the cell failed"] };
  return errorContent(thrown[0]);
}

/** Jupyter counts cursor positions in code points; JavaScript strings in UTF-16 units. */
export function utf16Offset(text: string, codePoints: number): number {
  let units = 0;
  let points = 0;
  for (const ch of text) {
    if (points >= codePoints) break;
    units += ch.length;
    points++;
  }
  return units;
}

export function codePointOffset(text: string, units: number): number {
  return Array.from(text.slice(0, units)).length;
}
