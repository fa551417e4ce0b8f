// `arcuate run` as a user runs it: a separate process, statements in, text out, errors on stderr
// with exit code 1. Only statements of the language itself, which need no peers.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { PROJECT_ROOT } from "../support/paths.js";

const run = promisify(execFile);
const cli = ["--import", "tsx", join(PROJECT_ROOT, "src", "cli.ts"), "run"];

it("explains, helps and reports a syntax error with a caret", async () => {
  const ok = await run(
    process.execPath,
    [...cli, "EXPLAIN REFRESH SHARE s; HELP DROP SHARE", "--mlflow", "http://m:5000", "--workdir", "/w"],
    {
      cwd: PROJECT_ROOT,
    },
  );
  expect(ok.stdout).toBe(
    [
      "plan for: REFRESH SHARE s",
      "  1. refreshShare: re-export every export of share s from http://m:5000, committing only what changed",
      '     share="s" schema=null mlflowUri="http://m:5000" workDir="/w"',
      "",
      "DROP SHARE [IF EXISTS] share",
      "",
      "  Drops a share and its grants.",
      "",
      "  DROP SHARE IF EXISTS churn_share",
      "",
    ].join("\n"),
  );
  const failed = run(process.execPath, [...cli, "SHOW SHARE"], { cwd: PROJECT_ROOT });
  await expect(failed).rejects.toMatchObject({
    code: 1,
    stderr: expect.stringContaining(
      "arcuate: syntax error at line 1, column 6: expected SHARES, RECIPIENTS, GRANTS, TABLES, TRACE or MODELS after SHOW, found SHARE; did you mean SHARES?\n  1 | SHOW SHARE\n    |      ^^^^^",
    ),
  });
});
