// What the source holds that an export does not carry, by kind and count. An export counts what
// MLflow holds (src/mlflow inventory), names the kinds it carried, and reports the rest: when a
// module starts carrying a kind (traces, say), that kind drops off the list by itself.
import type { Holdings } from "../mlflow/index.js";

export interface NotCarried {
  /** What it is: "traces", "assessments", "evaluation datasets", "prompts", "deleted runs", … */
  kind: string;
  count: number;
  /** Why, when it is not simply "this export does not carry it" (e.g. the recipient's MLflow is 2.x). */
  reason?: string;
}

/** The holdings of kinds not in `carried`, largest first. */
export function notCarried(holdings: Holdings, carried: ReadonlySet<string>): NotCarried[] {
  return [...holdings]
    .filter(([kind, count]) => count > 0 && !carried.has(kind))
    .map(([kind, count]) => ({ kind, count }))
    .sort((a, b) => b.count - a.count || a.kind.localeCompare(b.kind));
}

/** "3 traces, 1 evaluation dataset (…)" for summaries; "" when everything was carried. */
export function describeNotCarried(items: readonly NotCarried[]): string {
  return items
    .map(
      ({ kind, count, reason }) =>
        `${count} ${count === 1 ? singular(kind) : kind}${reason ? ` (${reason})` : ""}`,
    )
    .join(", ");
}

function singular(kind: string): string {
  return kind.replace(/ies$/, "y").replace(/([^s])s$/, "$1");
}
