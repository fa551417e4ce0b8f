// The golden tables and their versions, as the conformance tests ask every reader for them (the
// same list keys the Spark oracle's cache, so every test file that needs Spark shares one run).
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { DeltaTable } from "../../../src/delta/index.js";
import { GOLDEN_TABLES } from "../../support/paths.js";

export interface GoldenEntry {
  name: string;
  path: string;
  versions: Array<number | null>;
}

export async function versionsOf(path: string): Promise<Array<number | null>> {
  try {
    const latest = await (await DeltaTable.open(path)).latestVersion();
    return Array.from({ length: latest + 1 }, (_, v) => v);
  } catch {
    return [null]; // no log: every reader is asked for the latest version and must refuse
  }
}

export async function goldenEntries(): Promise<GoldenEntry[]> {
  const names = readdirSync(GOLDEN_TABLES)
    .filter((name) => statSync(join(GOLDEN_TABLES, name)).isDirectory())
    .sort();
  return Promise.all(
    names.map(async (name) => ({
      name,
      path: join(GOLDEN_TABLES, name),
      versions: await versionsOf(join(GOLDEN_TABLES, name)),
    })),
  );
}
