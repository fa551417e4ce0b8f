// SELECT … WHERE: rows filtered as SQL would (nulls never compare), and the predicate hint sent
// to a Delta Sharing server never keeps fewer rows than the filter.
import { describe, expect, it } from "vitest";
import { parse } from "../../grammar/parse.js";
import { compileScript } from "../../src/lang/compile.js";
import { matchesFilter, toJsonPredicate } from "../../src/lang/filter.js";
import type { RowFilter } from "../../src/lang/plan.js";
import { CONTEXT } from "./fixtures.js";

function filterOf(where: string): RowFilter {
  const [plan] = compileScript(parse(`SELECT * FROM 'p#s.x.t' WHERE ${where}`), CONTEXT);
  const step = plan?.steps[0];
  if (step?.step !== "selectFromShare" || !step.args.where) throw new Error("no filter");
  return step.args.where;
}

const rows = [
  { key: "auc", value: 0.9, step: 1, note: null },
  { key: "auc", value: 0.7, step: 2, note: "low" },
  { key: "loss", value: 0.2, step: 3, note: "val_loss" },
  { key: "f1", value: 0.8, step: 4 },
];
const keep = (where: string) =>
  rows.filter((row) => matchesFilter(filterOf(where), row)).map((row) => row.step);

describe("matchesFilter", () => {
  it.each([
    ["key = 'auc'", [1, 2]],
    ["value > 0.75", [1, 4]],
    ["value <= 0.7 AND key != 'loss'", [2]],
    ["key = 'loss' OR step >= 4", [3, 4]],
    ["NOT (key = 'auc')", [3, 4]],
    ["note IS NULL", [1, 4]],
    ["note IS NOT NULL", [2, 3]],
    ["key IN ('f1', 'loss')", [3, 4]],
    ["key NOT IN ('f1', 'loss')", [1, 2]],
    ["note LIKE 'val%'", [3]],
    ["note LIKE '_ow'", [2]],
    ["note = 'low' OR (key = 'f1' AND value > 0.5)", [2, 4]],
  ])("%s", (where, steps) => {
    expect(keep(where)).toEqual(steps);
  });
});

describe("toJsonPredicate", () => {
  it("writes comparisons with the literal's type", () => {
    expect(toJsonPredicate(filterOf("step >= 2"))).toEqual({
      op: "greaterThanOrEqual",
      children: [
        { op: "column", name: "step", valueType: "long" },
        { op: "literal", value: "2", valueType: "long" },
      ],
    });
  });

  it("drops a conjunct with no JSON form, but not a negated one", () => {
    expect(toJsonPredicate(filterOf("key = 'auc' AND note LIKE 'v%'"))).toMatchObject({ op: "equal" });
    expect(toJsonPredicate(filterOf("NOT (key = 'auc' AND note LIKE 'v%')"))).toBeUndefined();
    expect(toJsonPredicate(filterOf("key = 'auc' OR note LIKE 'v%'"))).toBeUndefined();
  });

  it("writes != and IN with equal, not and or", () => {
    expect(toJsonPredicate(filterOf("key != 'auc'"))).toMatchObject({
      op: "not",
      children: [{ op: "equal" }],
    });
    expect(toJsonPredicate(filterOf("key IN ('a', 'b')"))).toMatchObject({
      op: "or",
      children: [{ op: "equal" }, { op: "equal" }],
    });
  });
});
