// The progress display of a running statement: nothing for a quick one, then one display updated
// in place (same display_id), throttled, and closed with a summary line.
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import type { DisplayBundle } from "../../src/kernel/display.js";
import { ProgressDisplay } from "../../src/kernel/progress.js";

let writes: { text: string | undefined; id: string | undefined; update: boolean }[];
const write = (bundle: DisplayBundle, update: boolean) =>
  writes.push({
    text: bundle.data["text/plain"] as string | undefined,
    id: bundle.transient.display_id,
    update,
  });

beforeEach(() => {
  vi.useFakeTimers();
  writes = [];
});

afterEach(() => {
  vi.useRealTimers();
});

it("shows nothing for a statement that finishes quickly", () => {
  const progress = new ProgressDisplay(write);
  progress.update({ step: "createShare", message: "create share s" });
  vi.advanceTimersByTime(100);
  progress.finish(true);
  vi.advanceTimersByTime(1000);
  expect(writes).toEqual([]);
});

it("updates one display in place, at most a few times a second, and ends with a summary", () => {
  const progress = new ProgressDisplay(write);
  progress.update({ step: "export", message: "runs", done: 0, total: 100 });
  vi.advanceTimersByTime(400);
  for (let done = 1; done <= 50; done++) {
    progress.update({ step: "export", message: "runs", done, total: 100 });
    vi.advanceTimersByTime(10);
  }
  progress.update({ step: "import", message: "metrics" });
  vi.advanceTimersByTime(1600);
  progress.finish(true);

  expect(writes[0]).toMatchObject({ text: "export: runs (0/100)", update: false });
  expect(writes.slice(1).every((w) => w.update)).toBe(true);
  expect(new Set(writes.map((w) => w.id)).size).toBe(1);
  // 50 events in 0.5 s became two or three updates; the new step showed at once.
  expect(writes.length).toBeLessThanOrEqual(6);
  expect(writes.at(-2)?.text).toBe("import: metrics");
  expect(writes.at(-1)?.text).toBe("✓ import: done in 2.5 s");
});

it("says where a failed statement stopped", () => {
  const progress = new ProgressDisplay(write);
  progress.update({ step: "import", message: "artifacts", done: 3, total: 9 });
  vi.advanceTimersByTime(1000);
  progress.finish(false);
  expect(writes.map((w) => w.text)).toEqual([
    "import: artifacts (3/9)",
    "✗ stopped after 1.0 s at import: artifacts (3/9)",
  ]);
});
