import { describe, expect, it } from "vitest";
import { LIMITS, type MetricPoint, splitLogBatch } from "../../src/mlflow/index.js";

function points(count: number): MetricPoint[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `m${i % 7}`,
    value: i / 3,
    step: i,
    timestamp: 1000 + i,
  }));
}

describe("log-batch splitting", () => {
  it("keeps every request within MLflow's limits and every entity in order", () => {
    const params = Array.from({ length: 250 }, (_, i) => ({ key: `p${i}`, value: `v${i}` }));
    const tags = Array.from({ length: 130 }, (_, i) => ({ key: `t${i}`, value: "x".repeat(100) }));
    const metrics = points(10_000);
    const batches = [...splitLogBatch({ metrics, params, tags })];
    for (const batch of batches) {
      expect(batch.metrics.length).toBeLessThanOrEqual(LIMITS.metricsPerBatch);
      expect(batch.params.length).toBeLessThanOrEqual(LIMITS.paramsPerBatch);
      expect(batch.tags.length).toBeLessThanOrEqual(LIMITS.tagsPerBatch);
      expect(batch.metrics.length + batch.params.length + batch.tags.length).toBeLessThanOrEqual(1000);
      expect(JSON.stringify(batch).length).toBeLessThan(1_000_000);
    }
    expect(batches.flatMap((b) => b.params)).toEqual(params);
    expect(batches.flatMap((b) => b.tags)).toEqual(tags);
    expect(batches.flatMap((b) => b.metrics).map((m) => m.step)).toEqual(metrics.map((m) => m.step));
  });

  it("splits by size when values are large", () => {
    const tags = Array.from({ length: 100 }, (_, i) => ({
      key: `t${i}`,
      value: "y".repeat(LIMITS.tagValueLength),
    }));
    const params = Array.from({ length: 100 }, (_, i) => ({
      key: `p${i}`,
      value: "z".repeat(LIMITS.paramValueLength),
    }));
    const batches = [...splitLogBatch({ tags, params })];
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) expect(JSON.stringify(batch).length).toBeLessThan(1_000_000);
  });

  it("sends NaN and the infinities as MLflow's JSON strings", () => {
    const [batch] = [
      ...splitLogBatch({
        metrics: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.5].map((value, step) => ({
          key: "m",
          value,
          step,
          timestamp: 1,
        })),
      }),
    ];
    expect(batch!.metrics.map((m) => m.value)).toEqual(["NaN", "Infinity", "-Infinity", 1.5]);
  });

  it("accepts a param at the length limit and names the key and the limit when one is over it", () => {
    expect([
      ...splitLogBatch({ params: [{ key: "ok", value: "a".repeat(LIMITS.paramValueLength) }] }),
    ]).toHaveLength(1);
    expect(() => [
      ...splitLogBatch({ params: [{ key: "too_long", value: "a".repeat(LIMITS.paramValueLength + 1) }] }),
    ]).toThrow("mlflow: value of param 'too_long' is 6001 characters long; MLflow's limit is 6000");
    expect(() => [...splitLogBatch({ tags: [{ key: "k".repeat(251), value: "v" }] })]).toThrow(
      /tag key .* limit is 250/,
    );
  });
});
