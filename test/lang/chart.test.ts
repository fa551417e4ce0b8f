// PLOT's charts without servers: downsampling, the Vega-Lite spec, the text, and the SVG that
// vega renders in Node from the same spec.
import { describe, expect, it } from "vitest";
import {
  type ChartOutput,
  type ChartPoint,
  chartSpec,
  chartText,
  downsample,
  drawnSeries,
  MAX_DRAWN_POINTS_PER_RUN,
} from "../../src/lang/chart.js";
import { renderSvg } from "../../src/lang/chart-svg.js";

function curve(n: number, spikeAt = -1): ChartPoint[] {
  return Array.from({ length: n }, (_, i) => ({ x: i, y: i === spikeAt ? 100 : Math.exp(-i / n) }));
}

const chart: ChartOutput = {
  kind: "chart",
  title: "loss in churn_share.churn",
  metric: "loss",
  x: "step",
  series: [
    { run: "lr-0.1", runId: "a", points: curve(20) },
    { run: "lr-0.3", runId: "b", points: curve(20) },
    { run: "lr-0.03", runId: "c", points: curve(3000, 1234) },
  ],
};

describe("downsample", () => {
  it("keeps short lines whole", () => {
    expect(downsample(curve(MAX_DRAWN_POINTS_PER_RUN))).toHaveLength(MAX_DRAWN_POINTS_PER_RUN);
  });

  it("cuts long lines to at most the limit, keeping the ends, the order and a spike", () => {
    const drawn = downsample(curve(100_000, 54_321));
    expect(drawn.length).toBeLessThanOrEqual(MAX_DRAWN_POINTS_PER_RUN);
    expect(drawn.length).toBeGreaterThan(MAX_DRAWN_POINTS_PER_RUN - 4);
    expect(drawn[0]).toEqual({ x: 0, y: 1 });
    expect(drawn.at(-1)?.x).toBe(99_999);
    expect(drawn.map((p) => p.x)).toEqual([...drawn.map((p) => p.x)].sort((a, b) => a - b));
    expect(drawn).toContainEqual({ x: 54_321, y: 100 });
  });
});

describe("a chart", () => {
  it("is a Vega-Lite line chart, one colour per run, with the drawn points as data", () => {
    const drawn = drawnSeries(chart.series);
    const spec = chartSpec(chart, drawn, "downsampled to 540 of 3,040 points for drawing");
    expect(spec["$schema"]).toBe("https://vega.github.io/schema/vega-lite/v5.json");
    expect(spec["mark"]).toMatchObject({ type: "line" });
    expect(spec["encoding"]).toMatchObject({
      x: { field: "x", type: "quantitative", title: "step" },
      y: { field: "value", title: "loss" },
      color: { field: "run" },
    });
    const values = (spec["data"] as { values: { run: string }[] }).values;
    expect(values).toHaveLength(20 + 20 + (drawn[2]?.points.length ?? 0));
    expect(spec["title"]).toEqual({
      text: "loss in churn_share.churn",
      subtitle: "downsampled to 540 of 3,040 points for drawing",
    });
  });

  it("by time has a temporal x axis", () => {
    const spec = chartSpec({ ...chart, x: "time" }, chart.series);
    expect(spec["encoding"]).toMatchObject({ x: { type: "temporal", title: "time" } });
  });

  it("says in words what it shows", () => {
    expect(chartText(chart, "downsampled to 540 of 3,040 points for drawing").split("\n")).toEqual([
      "loss in churn_share.churn: a line chart of 'loss' by step, one line per run (3 runs, 3,040 points); downsampled to 540 of 3,040 points for drawing",
      "  lr-0.1: 20 points, from 1 to 0.3867",
      "  lr-0.3: 20 points, from 1 to 0.3867",
      "  lr-0.03: 3000 points, from 1 to 0.3680",
    ]);
  });

  it("renders to an SVG with one line per run", async () => {
    const svg = await renderSvg(chartSpec(chart, drawnSeries(chart.series)));
    expect(svg.startsWith("<svg")).toBe(true);
    const lines = svg.match(/<path[^>]*aria-roledescription="line mark"/g) ?? [];
    expect(lines).toHaveLength(3);
    for (const run of ["lr-0.1", "lr-0.3", "lr-0.03"]) expect(svg).toContain(`>${run}</text>`);
  }, 30_000);
});
