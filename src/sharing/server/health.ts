// Probes for load balancers and orchestrators, outside the API prefix and without a token:
//
//   GET /healthz   200 while the process answers at all (alive)
//   GET /readyz    200 when the catalog can be read now; 503 with a protocol error when not
//                  (a database catalog that is down), and 200 again once it is back
import type { IncomingMessage, ServerResponse } from "node:http";
import { ArcuateError, isArcuateError } from "../../errors.js";
import type { SharingCatalog } from "../catalog/state.js";
import { type Logger, renderError, sendJson } from "./http.js";

/** Answers a probe and returns true, or returns false when `req` is not one. */
export async function answerProbe(
  req: IncomingMessage,
  res: ServerResponse,
  catalog: SharingCatalog,
  log: Logger,
): Promise<boolean> {
  const path = (req.url ?? "/").split("?")[0];
  if (path !== "/healthz" && path !== "/readyz") return false;
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  if (path === "/healthz") {
    sendJson(res, 200, { status: "alive" });
    return true;
  }
  try {
    await catalog.view();
    await catalog.check?.();
    sendJson(res, 200, { status: "ready" });
  } catch (error) {
    const unavailable =
      isArcuateError(error) && error.status === 503
        ? error
        : new ArcuateError("TEMPORARILY_UNAVAILABLE", "sharing: the catalog cannot be read", {
            cause: error,
          });
    renderError(res, unavailable, log);
  }
  return true;
}
