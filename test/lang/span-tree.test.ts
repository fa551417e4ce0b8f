// SHOW TRACE's span tree without servers: nesting under parents, durations, statuses, and the
// HTML and text a notebook shows (the kernel's bundle carries both).
import { describe, expect, it } from "vitest";
import { resultBundle } from "../../src/kernel/display.js";
import {
  formatDuration,
  type SpanNode,
  spanTree,
  type TraceOutput,
  type TraceSpan,
  traceResult,
} from "../../src/lang/span-tree.js";

const T0 = 1_764_590_400_000_000_000n; // ns
const ms = (n: number) => BigInt(Math.round(n * 1e6));

function span(
  spanId: string,
  parentSpanId: string | null,
  name: string,
  startMs: number,
  endMs: number | null,
  extra: Partial<TraceSpan> = {},
): TraceSpan {
  return {
    spanId,
    parentSpanId,
    name,
    spanType: null,
    startNs: T0 + ms(startMs),
    endNs: endMs === null ? null : T0 + ms(endMs),
    statusCode: "STATUS_CODE_OK",
    statusMessage: null,
    ...extra,
  };
}

// An agent as MLflow's tracing records it: spans in no particular order (as a table returns them),
// a nested chat model call, and a guard that failed.
const spans: TraceSpan[] = [
  span("c3", "b2", "tokenize", 2.5, 2.75, { spanType: "PARSER" }),
  span("d4", "a1", "guard", 8, 8.2, {
    spanType: "PARSER",
    statusCode: "STATUS_CODE_ERROR",
    statusMessage: "ValueError: guard rejected the answer",
  }),
  span("a1", null, "agent", 0, 12.5, { spanType: "AGENT" }),
  span("b2", "a1", "llm", 2, 7.25, { spanType: "CHAT_MODEL" }),
  span("e5", "a1", "lookup", 0.5, 0.92, { spanType: "TOOL" }),
];
const trace: TraceOutput = {
  kind: "trace",
  traceId: "tr-0af7",
  from: "agent_share.agent",
  state: "OK",
  spans,
};

const shape = (nodes: SpanNode[]): unknown =>
  nodes.map((n) => (n.children.length === 0 ? n.name : { [n.name]: shape(n.children) }));

describe("a span tree", () => {
  it("nests spans under their parents, siblings in order of start", () => {
    expect(shape(spanTree(spans))).toEqual([{ agent: ["lookup", { llm: ["tokenize"] }, "guard"] }]);
  });

  it("gives each span its duration, its start from the trace's start, and its status", () => {
    const [agent] = spanTree(spans);
    const [lookup, llm, guard] = agent?.children ?? [];
    expect(agent?.durationMs).toBeCloseTo(12.5, 9);
    expect(lookup).toMatchObject({ startMs: 0.5, status: "OK", spanType: "TOOL" });
    expect(lookup?.durationMs).toBeCloseTo(0.42, 9);
    expect(llm?.children[0]?.durationMs).toBeCloseTo(0.25, 9);
    expect(guard).toMatchObject({
      status: "ERROR",
      statusMessage: "ValueError: guard rejected the answer",
    });
  });

  it("keeps a span whose parent is missing, as a root, and a span not ended", () => {
    const tree = spanTree([
      span("a1", null, "agent", 0, 10),
      span("x9", "gone", "orphan", 3, null, { statusCode: null }),
    ]);
    expect(shape(tree)).toEqual(["agent", "orphan"]);
    expect(tree[1]).toMatchObject({ durationMs: null, status: "UNSET" });
    expect(formatDuration(null)).toBe("not ended");
  });

  it("survives a parent cycle, which no well-formed trace has, by showing the spans as roots", () => {
    const tree = spanTree([span("a", "b", "one", 0, 1), span("b", "a", "two", 1, 2)]);
    expect(shape(tree)).toEqual([{ one: ["two"] }]);
  });

  it.each([
    [0.42, "0.42 ms"],
    [12.5, "12.5 ms"],
    [250, "250 ms"],
    [1250, "1.25 s"],
    [61_000, "61.0 s"],
  ])("writes %s ms as %s", (value, text) => {
    expect(formatDuration(value)).toBe(text);
  });
});

describe("a trace in the notebook", () => {
  const result = traceResult(trace);

  it("counts spans and errors and measures the whole trace", () => {
    expect(result).toMatchObject({ spans: 5, errors: 1, state: "OK" });
    expect(result.durationMs).toBeCloseTo(12.5, 9);
  });

  it("is drawn in text as an indented tree, a span a line", () => {
    expect(result.text.split("\n")).toEqual([
      "trace tr-0af7 in agent_share.agent (OK, 5 spans, 1 error, 12.5 ms)",
      "agent [AGENT]  12.5 ms  OK",
      "├─ lookup [TOOL]  0.42 ms  OK",
      "├─ llm [CHAT_MODEL]  5.3 ms  OK",
      "│  └─ tokenize [PARSER]  0.25 ms  OK",
      "└─ guard [PARSER]  0.20 ms  ERROR: ValueError: guard rejected the answer",
    ]);
  });

  it("is nested HTML lists, each span with its name, type, duration and status", () => {
    const { html } = result;
    // The list nesting follows the tree: agent > (lookup, llm > tokenize, guard).
    const opened = [...html.matchAll(/<(\/?)(ul|li)\b([^>]*)>/g)].map((m) => {
      const id = /data-span-id="(\w+)"/.exec(m[3] ?? "")?.[1];
      return m[1] ? `/${m[2]}` : id ? `li:${id}` : (m[2] as string);
    });
    expect(opened).toEqual([
      "ul",
      "li:a1",
      "ul",
      "li:e5",
      "/li",
      "li:b2",
      "ul",
      "li:c3",
      "/li",
      "/ul",
      "/li",
      "li:d4",
      "/li",
      "/ul",
      "/li",
      "/ul",
    ]);
    expect(html).toContain("trace tr-0af7 in agent_share.agent (OK, 5 spans, 1 error, 12.5 ms)");
    const guard = html.slice(html.indexOf('data-span-id="d4"'));
    expect(guard).toMatch(/^data-span-id="d4" data-status="ERROR">/);
    expect(guard).toContain('<span class="arcuate-span-name"><b>guard</b></span>');
    expect(guard).toContain('<span class="arcuate-span-type"><small>PARSER</small></span>');
    expect(guard).toContain('<span class="arcuate-span-duration">0.20 ms</span>');
    expect(guard).toContain(
      '<span class="arcuate-span-message">ValueError: guard rejected the answer</span>',
    );
  });

  it("escapes what the spans hold", () => {
    const odd = traceResult({ ...trace, spans: [span("a1", null, "<script>x</script>", 0, 1)] });
    expect(odd.html).not.toContain("<script>");
    expect(odd.html).toContain("&#60;script&#62;x&#60;/script&#62;");
  });

  it("goes out as one display bundle with the HTML and its text fallback", () => {
    expect(resultBundle(result).data).toEqual({ "text/html": result.html, "text/plain": result.text });
  });
});
