// The name of a statement's kind as a user would write it ("CREATE OR REPLACE EXPERIMENT … USING
// SHARE"), for messages about the whole statement rather than one token of it.
import type { Statement } from "../../grammar/ast.js";

export function statementTitle(s: Statement): string {
  switch (s.kind) {
    case "createShare": {
      const kinds = [...new Set(s.objects.map((o) => o.kind.toUpperCase()))];
      return kinds.length === 0 ? "CREATE SHARE" : `CREATE SHARE … WITH ${kinds.join(", ")}`;
    }
    case "alterShare": {
      const added = [
        ...new Set(s.alterations.flatMap((a) => (a.kind === "add" ? [a.object.kind.toUpperCase()] : []))),
      ];
      if (added.length > 0) return `ALTER SHARE … ADD ${added.join(", ")}`;
      return s.alterations.some((a) => a.kind === "remove") ? "ALTER SHARE … REMOVE" : "ALTER SHARE … SET";
    }
    case "refreshShare":
      return "REFRESH SHARE";
    case "importExperiment":
    case "importModel":
      return `CREATE ${s.orReplace ? "OR REPLACE " : ""}${s.kind === "importExperiment" ? "EXPERIMENT" : "MODEL"} … USING SHARE`;
    case "explain":
      return `EXPLAIN ${statementTitle(s.statement)}`;
    default:
      return s.source.text.trim().split(/\s+/).slice(0, 2).join(" ").toUpperCase();
  }
}
