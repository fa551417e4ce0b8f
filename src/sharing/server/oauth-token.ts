// The token endpoint of OAuth 2.0 client credentials (RFC 6749 §4.4, §5): `POST {prefix}/oauth/token`
// with `grant_type=client_credentials` and the client id and secret in HTTP Basic auth (as the
// Python and Spark connectors send them) or in the form. Answers `{access_token, token_type,
// expires_in}`, or an RFC 6749 error object: `invalid_client` is 401.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { CatalogView } from "../catalog/state.js";
import { sendJson } from "./http.js";

const MAX_FORM_BYTES = 16_384;

export async function answerTokenRequest(
  req: IncomingMessage,
  res: ServerResponse,
  view: CatalogView,
): Promise<{ id: string; name: string } | undefined> {
  const form = new URLSearchParams(await readForm(req));
  const refuse = (status: number, error: string, description: string) =>
    sendJson(
      res,
      status,
      { error, error_description: description },
      {
        "Cache-Control": "no-store",
        ...(status === 401 ? { "WWW-Authenticate": 'Basic realm="delta-sharing"' } : {}),
      },
    );
  if (form.get("grant_type") !== "client_credentials") {
    refuse(400, "unsupported_grant_type", "sharing: only grant_type=client_credentials is supported");
    return undefined;
  }
  let clientId = form.get("client_id") ?? undefined;
  let secret = form.get("client_secret") ?? undefined;
  const auth = req.headers.authorization;
  const basic = auth === undefined ? undefined : /^\s*basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(auth);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon > 0) {
      clientId = decodeURIComponent(decoded.slice(0, colon));
      secret = decodeURIComponent(decoded.slice(colon + 1));
    }
  }
  const issued =
    clientId !== undefined && secret !== undefined
      ? view.issueAccessToken?.(clientId, secret, Date.now())
      : undefined;
  if (!issued) {
    refuse(401, "invalid_client", "sharing: the client id or secret is not valid");
    return undefined;
  }
  sendJson(
    res,
    200,
    { access_token: issued.accessToken, token_type: "Bearer", expires_in: issued.expiresIn },
    { "Cache-Control": "no-store" },
  );
  return issued.principal;
}

async function readForm(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) break;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
