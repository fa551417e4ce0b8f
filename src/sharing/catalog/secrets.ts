// The catalog's secrets, kept in `secret.json` (mode 0600) in the working folder: the pepper of
// token hashes and the key that signs file URLs and page tokens. Created once, atomically; every
// process opening the folder reads the same secrets.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { ArcuateError } from "../../errors.js";
import { withLock, writeFileAtomic } from "./files.js";

export interface Secrets {
  pepper: Buffer;
  signingKey: Buffer;
}

export async function loadSecrets(path: string): Promise<Secrets> {
  const read = async (): Promise<Secrets | undefined> => {
    const text = await readFile(path, "utf8").catch(() => undefined);
    if (text === undefined) return undefined;
    const json = JSON.parse(text) as { pepper?: string; signingKey?: string };
    if (!json.pepper || !json.signingKey)
      throw new ArcuateError("CORRUPT_TABLE", `catalog: ${path} is incomplete`);
    return { pepper: Buffer.from(json.pepper, "hex"), signingKey: Buffer.from(json.signingKey, "hex") };
  };
  const existing = await read();
  if (existing) return existing;
  const secrets = { pepper: randomBytes(32).toString("hex"), signingKey: randomBytes(32).toString("hex") };
  await withLock(`${path}.lock`, async () => {
    if (!existsSync(path)) await writeFileAtomic(path, `${JSON.stringify(secrets)}\n`, 0o600);
  });
  return (await read())!;
}
