// The Runtime over arcuate's own modules: the provider's catalog and exports under the working
// folder (src/sharing/catalog, src/exchange), MLflow through src/mlflow, and the recipient's side
// through the Delta Sharing client. Each method is one plan step; errors name the object. The
// steps live beside this file by what they work on: catalog-runtime.ts (shares, recipients,
// grants), exchange-runtime.ts (exports and imports), read-runtime.ts (previews, charts, traces).
import type { NameRole } from "../../grammar/expected.js";
import { allPages } from "../mlflow/index.js";
import { catalogSteps } from "./catalog-runtime.js";
import { exchangeSteps } from "./exchange-runtime.js";
import { readSteps } from "./read-runtime.js";
import type { NameContext, Runtime } from "./runtime.js";
import { mlflowAt, openCatalog } from "./runtime-clients.js";

/** The Runtime that does the real work, keeping the provider's state under `workDir`. */
export function arcuateRuntime(): Runtime {
  return {
    ...catalogSteps(),
    ...exchangeSteps(),
    ...readSteps(),
    async listNames(role: NameRole, context: NameContext) {
      try {
        if (role === "share")
          return (await (await openCatalog(context.workDir)).listShares()).map((s) => s.name);
        if (role === "recipient")
          return (await (await openCatalog(context.workDir)).listRecipients()).map((r) => r.name);
        if (role === "experiment" && context.mlflowUri) {
          const page = await mlflowAt(context.mlflowUri).experiments.search({ maxResults: 200 });
          return page.items.map((e) => e.name);
        }
        if (role === "model" && context.mlflowUri) {
          const names: string[] = [];
          for await (const m of allPages((t) =>
            mlflowAt(context.mlflowUri!).models.search({ maxResults: 200, ...(t ? { pageToken: t } : {}) }),
          )) {
            names.push(m.name);
            if (names.length >= 200) break;
          }
          return names;
        }
      } catch {
        // Completion must answer fast and never fail: no names is a fine answer.
      }
      return [];
    },
  };
}
