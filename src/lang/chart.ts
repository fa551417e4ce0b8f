// Metric charts of PLOT: the runs' histories as data, downsampled for drawing, and the Vega-Lite
// spec and text that show them. Pure: no I/O. The SVG rendering of the spec is chart-svg.ts.
import type { ChartAxis } from "./plan.js";

/** One point of a metric's history. `x` is the step, or the timestamp in ms since the epoch. */
export interface ChartPoint {
  x: number;
  y: number;
}

/** One run's line. */
export interface ChartSeries {
  run: string;
  runId: string;
  points: ChartPoint[];
}

/** What a PLOT step returns: every run's history of one metric, in full. */
export interface ChartOutput {
  kind: "chart";
  title: string;
  metric: string;
  x: ChartAxis;
  series: ChartSeries[];
}

/** A Vega-Lite spec (JSON). */
export type VegaLiteSpec = Record<string, unknown>;

/** A chart as the notebook shows it: the (downsampled) data, its spec, SVG and text. */
export interface ChartResult {
  kind: "chart";
  title: string;
  metric: string;
  x: ChartAxis;
  runs: number;
  /** Points in the histories, and points drawn (fewer when downsampled). */
  points: number;
  drawnPoints: number;
  spec: VegaLiteSpec;
  /** The spec rendered to SVG in Node, for nbconvert, GitHub and anything without Vega. */
  svg: string;
  /** What the chart shows, in words: the text/plain fallback. */
  text: string;
}

/**
 * Points drawn per run at most. Beyond this a line is downsampled: a chart is a few hundred pixels
 * wide, and a 100,000-point spec would make the notebook slow to open for no visible gain.
 */
export const MAX_DRAWN_POINTS_PER_RUN = 500;

/**
 * A line of at most `max` points that looks like the whole: the points are cut into buckets of
 * equal count and each bucket keeps its lowest and highest point, in order (so spikes survive,
 * where keeping every n-th point would drop them). The first and last points are always kept.
 */
export function downsample(points: ChartPoint[], max = MAX_DRAWN_POINTS_PER_RUN): ChartPoint[] {
  if (points.length <= max) return points;
  const first = points[0] as ChartPoint;
  const last = points[points.length - 1] as ChartPoint;
  const inner = points.slice(1, -1);
  const buckets = Math.max(1, Math.floor((max - 2) / 2));
  const out: ChartPoint[] = [first];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * inner.length) / buckets);
    const to = Math.floor(((b + 1) * inner.length) / buckets);
    let low: ChartPoint | undefined;
    let high: ChartPoint | undefined;
    let lowAt = 0;
    let highAt = 0;
    for (let i = from; i < to; i++) {
      const p = inner[i] as ChartPoint;
      if (low === undefined || p.y < low.y) {
        low = p;
        lowAt = i;
      }
      if (high === undefined || p.y > high.y) {
        high = p;
        highAt = i;
      }
    }
    if (low === undefined || high === undefined) continue;
    if (low === high) out.push(low);
    else out.push(...(lowAt < highAt ? [low, high] : [high, low]));
  }
  out.push(last);
  return out;
}

/** The chart's series sorted by x, each downsampled for drawing. */
export function drawnSeries(series: ChartSeries[]): ChartSeries[] {
  return series.map((s) => ({ ...s, points: downsample([...s.points].sort((a, b) => a.x - b.x)) }));
}

/**
 * The Vega-Lite spec of a chart: one line per run (colour by run), the axis chosen by PLOT … BY.
 * Written against the v5 schema, which JupyterLab's built-in renderer reads
 * (application/vnd.vegalite.v5+json); Vega-Lite 6 compiles it unchanged.
 */
export function chartSpec(chart: ChartOutput, drawn: ChartSeries[], note?: string): VegaLiteSpec {
  const values = drawn.flatMap((s) => s.points.map((p) => ({ run: s.run, x: p.x, value: p.y })));
  const x =
    chart.x === "step"
      ? { field: "x", type: "quantitative", title: "step" }
      : { field: "x", type: "temporal", title: "time" };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: note ? { text: chart.title, subtitle: note } : chart.title,
    width: 480,
    height: 260,
    data: { values },
    mark: { type: "line", point: false, tooltip: true },
    encoding: {
      x,
      y: { field: "value", type: "quantitative", title: chart.metric, scale: { zero: false } },
      color: { field: "run", type: "nominal", title: "run" },
    },
  };
}

/** "downsampled to 1,000 of 120,000 points for drawing", or undefined when all are drawn. */
export function downsampleNote(points: number, drawn: number): string | undefined {
  return drawn < points
    ? `downsampled to ${drawn.toLocaleString("en-US")} of ${points.toLocaleString("en-US")} points for drawing`
    : undefined;
}

/** What the chart shows, in words: per run its points and its first and last values. */
export function chartText(chart: ChartOutput, note?: string): string {
  const points = chart.series.reduce((n, s) => n + s.points.length, 0);
  const head = `${chart.title}: a line chart of '${chart.metric}' by ${chart.x}, one line per run (${chart.series.length} runs, ${points.toLocaleString("en-US")} points)`;
  const lines = [note ? `${head}; ${note}` : head];
  if (chart.series.length === 0) lines.push(`  no run has metric '${chart.metric}'`);
  for (const s of chart.series) {
    const sorted = [...s.points].sort((a, b) => a.x - b.x);
    const first = sorted[0];
    const last = sorted[sorted.length - 1];
    const range =
      first && last ? `, from ${formatNumber(first.y)} to ${formatNumber(last.y)}` : ", no points";
    lines.push(`  ${s.run}: ${s.points.length} points${range}`);
  }
  return lines.join("\n");
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(4);
}
