// GET /activation/<code>: a recipient downloads its profile from its one-time activation link
// (catalog/activation.ts). At the server's root, outside the API's prefix: the link is not part
// of the protocol and needs no credentials (the code is the credential). A used or expired link
// answers 410, any other code 404, both as protocol errors.
import type { IncomingMessage, ServerResponse } from "node:http";
import { NotFoundError } from "../../errors.js";
import type { SharingCatalog } from "../catalog/state.js";
import type { AccessTrail } from "./access-trail.js";

/** Answers the request when it is an activation link's; false when it is not one. */
export async function answerActivation(
  req: IncomingMessage,
  res: ServerResponse,
  catalog: SharingCatalog,
  trail: AccessTrail | undefined,
): Promise<boolean> {
  const path = (req.url ?? "/").split("?", 1)[0]!;
  if (!path.startsWith("/activation/")) return false;
  trail?.operation("activation");
  const code = path.slice("/activation/".length);
  if ((req.method ?? "GET").toUpperCase() !== "GET" || !catalog.activate || code.includes("/"))
    throw new NotFoundError("sharing: no such activation link");
  const result = await catalog.activate(code, Date.now());
  if (!result.ok) {
    if (result.reason === "unknown") throw new NotFoundError("sharing: no such activation link");
    const what = result.reason === "used" ? `was already used (at ${result.at})` : `expired at ${result.at}`;
    throw new NotFoundError(`sharing: this activation link ${what}: ask the provider for a new one`, {
      details: { httpStatus: 410 },
    });
  }
  trail?.principal(result.recipient);
  const body = `${JSON.stringify(result.profile, null, 2)}\n`;
  res.writeHead(200, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
    "Content-Disposition": `attachment; filename="${result.recipient.name}.share"`,
    "Cache-Control": "no-store",
  });
  res.end(body);
  return true;
}
