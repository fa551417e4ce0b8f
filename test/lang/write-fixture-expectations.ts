// Writes the expected output of language fixtures that have none yet: the plans of a new
// valid/*.sql, the message of a new invalid/*.sql. Review what it wrote before committing: the
// fixtures pin behaviour only if a person agreed with it once.
//   npx tsx test/lang/write-fixture-expectations.ts          (new fixtures only)
//   REWRITE=1 npx tsx test/lang/write-fixture-expectations.ts (all of them)
// then npx biome check --write test/fixtures/lang (biome formats the JSON).
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compileFixtureText, FIXTURES, fixtureNames, readFixture } from "./fixtures.js";

const rewrite = process.env["REWRITE"] === "1";
for (const name of fixtureNames("valid")) {
  const out = join(FIXTURES, "valid", `${name}.json`);
  if (existsSync(out) && !rewrite) continue;
  writeFileSync(out, `${JSON.stringify(compileFixtureText(readFixture("valid", name, ".sql")), null, 2)}\n`);
  process.stdout.write(`wrote ${out}\n`);
}
for (const name of fixtureNames("invalid")) {
  const out = join(FIXTURES, "invalid", `${name}.txt`);
  if (existsSync(out) && !rewrite) continue;
  try {
    compileFixtureText(readFixture("invalid", name, ".sql"));
    process.stdout.write(`invalid/${name}.sql compiles: it is not invalid\n`);
  } catch (error) {
    writeFileSync(out, `${(error as Error).message}\n`);
    process.stdout.write(`wrote ${out}\n`);
  }
}
