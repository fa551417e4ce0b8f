// SHOW TRACE end to end against real peers: traces made by MLflow's own Python tracing
// (python/seed_genai.py: an agent span over a tool, a chat model and a guard that raises),
// exported into a share by CREATE SHARE, served by arcuate's sharing server, and shown as a span
// tree from the share (the recipient's view, before import) and from the provider's MLflow.
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resultBundle } from "../../src/kernel/display.js";
import { createSession, type Session, type StatementResult } from "../../src/lang/index.js";
import type { SpanNode } from "../../src/lang/span-tree.js";
import { mlflowServers } from "../support/mlflow.js";
import { PROJECT_ROOT } from "../support/paths.js";
import { runPythonScriptJson } from "../support/python.js";
import { startTestSharingServer, type TestSharingServer } from "../support/sharing-server.js";

const id = randomUUID().slice(0, 8);
const experiment = `trace-agent-${id}`;
const share = `trace_share_${id}`;
const recipient = `trace_reader_${id}`;

let sharing: TestSharingServer;
let session: Session;
let traceIds: string[];
let coordinate: string;
const variables: Record<string, string> = { experiment };

beforeAll(async () => {
  const { provider } = mlflowServers();
  // Two traces: the first one's guard span raises (seed_genai.py fails every even trace).
  const seeded = await runPythonScriptJson<{ trace_ids: string[] }>(
    join(PROJECT_ROOT, "python", "seed_genai.py"),
    { args: [provider, experiment, `trace-prompt-${id}`, "--traces", "2"], timeoutMs: 300_000 },
  );
  traceIds = seeded.trace_ids;
  sharing = await startTestSharingServer();
  session = createSession({
    workDir: sharing.dir,
    mlflowUri: provider,
    variables: (name) => variables[name],
  });
  await session.execute(
    `CREATE SHARE ${share} WITH EXPERIMENT :experiment AS agent; CREATE RECIPIENT ${recipient}; GRANT SELECT ON SHARE ${share} TO RECIPIENT ${recipient}`,
  );
  coordinate = `${sharing.catalog.profilePath(recipient)}#${share}.agent`;
  variables["coordinate"] = coordinate;
}, 400_000);

afterAll(async () => {
  await sharing?.close();
});

type TraceResult = Extract<StatementResult, { kind: "trace" }>;

async function showTrace(text: string): Promise<TraceResult> {
  const [result] = await session.execute(text);
  if (result?.kind !== "trace") throw new Error(`not a trace: ${JSON.stringify(result)}`);
  return result;
}

const shape = (nodes: SpanNode[]): unknown =>
  nodes.map((n) => (n.children.length === 0 ? n.name : { [n.name]: shape(n.children) }));

describe("SHOW TRACE", () => {
  it("shows a shared trace as its span tree, with types, durations and the failed span's status", async () => {
    variables["trace"] = traceIds[0] as string;
    const trace = await showTrace("SHOW TRACE :trace FROM :coordinate");
    expect(trace).toMatchObject({
      traceId: traceIds[0],
      from: `${share}.agent`,
      state: "OK",
      spans: 4,
      errors: 1,
    });
    expect(shape(trace.roots)).toEqual([{ agent: ["lookup", "llm", "guard"] }]);
    const [agent] = trace.roots;
    expect(agent?.spanType).toBe("AGENT");
    expect(agent?.children.map((c) => [c.name, c.spanType, c.status])).toEqual([
      ["lookup", "TOOL", "OK"],
      ["llm", "CHAT_MODEL", "OK"],
      ["guard", "PARSER", "ERROR"],
    ]);
    expect(agent?.children[2]?.statusMessage).toContain("guard rejected the answer");
    // Each child lies within the agent's time, and the agent spans the whole trace.
    for (const child of agent?.children ?? []) {
      expect(child.durationMs).toBeGreaterThan(0);
      expect(child.startMs + (child.durationMs ?? 0)).toBeLessThanOrEqual((agent?.durationMs ?? 0) + 1e-6);
    }
    expect(trace.durationMs).toBe(agent?.durationMs);

    const lines = trace.text.split("\n");
    expect(lines[0]).toMatch(
      new RegExp(`^trace ${traceIds[0]} in ${share}\\.agent \\(OK, 4 spans, 1 error, [\\d.]+ (ms|s)\\)$`),
    );
    expect(lines.slice(1).map((line) => line.replace(/ {2}[\d.]+ (ms|s) {2}/, "  <time>  "))).toEqual([
      "agent [AGENT]  <time>  OK",
      "├─ lookup [TOOL]  <time>  OK",
      "├─ llm [CHAT_MODEL]  <time>  OK",
      `└─ guard [PARSER]  <time>  ERROR: ${agent?.children[2]?.statusMessage}`,
    ]);
    const bundle = resultBundle(trace);
    expect(bundle.data["text/plain"]).toBe(trace.text);
    expect(bundle.data["text/html"]).toMatch(
      /<li class="arcuate-span" data-span-id="\w+" data-status="ERROR">/,
    );
  });

  it("shows the same tree from the provider's MLflow", async () => {
    variables["trace"] = traceIds[0] as string;
    const shared = await showTrace("SHOW TRACE :trace FROM :coordinate");
    const inMlflow = await showTrace("SHOW TRACE :trace FROM EXPERIMENT :experiment");
    expect(inMlflow.from).toBe(`experiment '${experiment}'`);
    expect(inMlflow.roots).toEqual(shared.roots);
    variables["trace"] = traceIds[1] as string;
    expect(await showTrace("SHOW TRACE :trace FROM EXPERIMENT :experiment")).toMatchObject({
      spans: 4,
      errors: 0,
    });
  });

  it("says when the trace is not there", async () => {
    await expect(
      session.execute("SHOW TRACE 'tr-00000000000000000000000000000000' FROM :coordinate"),
    ).rejects.toThrow(
      `SHOW TRACE 'tr-00000000000000000000000000000000' FROM :coordinate: trace: 'tr-00000000000000000000000000000000' is not a trace of ${share}.agent`,
    );
    await expect(
      session.execute("SHOW TRACE 'tr-00000000000000000000000000000000' FROM EXPERIMENT :experiment"),
    ).rejects.toThrow(`is not a trace of experiment '${experiment}'`);
  });
});
