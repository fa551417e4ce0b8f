// The change data feed (PROTOCOL.md #read-change-data-feed-from-a-table): data change files of
// each commit in a version or timestamp range. A commit with change files (`cdc`) describes its
// changes there; otherwise its data-changing adds and removes do.

import { createHash } from "node:crypto";
import type { AddAction, CdcAction, RemoveAction } from "../../delta/actions.js";
import { ArcuateError } from "../../errors.js";
import { type Capabilities, type EndStreamAction, nameKey } from "../protocol.js";
import { badRequest } from "./http.js";
import { endStream, FileLines, type HandedOut, metadataLine, protocolLine } from "./lines.js";
import { negotiate } from "./negotiate.js";
import {
  asParameterError,
  commitsHaveDeletionVectors,
  loadCommits,
  optionalVersion,
  type Prepared,
  parseTimestamp,
  requireHistory,
  responseHeaders,
  type ServedTable,
  tableName,
  versionSnapshot,
} from "./query.js";

export async function prepareChanges(
  t: ServedTable,
  caps: Capabilities,
  query: URLSearchParams,
): Promise<Prepared> {
  requireHistory(t, "changes");
  const startingVersion = optionalVersion(query.get("startingVersion"), "startingVersion");
  const endingVersion = optionalVersion(query.get("endingVersion"), "endingVersion");
  const startingTimestamp = query.get("startingTimestamp");
  const endingTimestamp = query.get("endingTimestamp");
  if (startingVersion !== undefined && startingTimestamp !== null) {
    throw badRequest("sharing: startingVersion and startingTimestamp cannot both be set");
  }
  if (endingVersion !== undefined && endingTimestamp !== null) {
    throw badRequest("sharing: endingVersion and endingTimestamp cannot both be set");
  }
  if (startingVersion === undefined && startingTimestamp === null) {
    throw badRequest("sharing: changes need startingVersion or startingTimestamp");
  }
  const historicalMetadata = query.get("includeHistoricalMetadata")?.toLowerCase() === "true";
  const historicalProtocol = query.get("includeHistoricalProtocol")?.toLowerCase() === "true";
  const maxFilesText = query.get("maxFiles");
  const maxFiles = maxFilesText === null ? undefined : optionalVersion(maxFilesText, "maxFiles");
  if (maxFiles === 0) throw badRequest("sharing: maxFiles must be positive");
  // A page token carries the resolved range and where the previous page stopped; it is bound to
  // the recipient, the table and the other parameters, so it cannot be replayed elsewhere.
  const tableKey = `${nameKey(t.share)}\n${nameKey(t.schema)}\n${nameKey(t.entry.name)}`;
  const params = [...query.entries()].filter(([k]) => k !== "pageToken" && k !== "maxFiles").sort();
  const listing = `changes\n${tableKey}\n${createHash("sha256").update(JSON.stringify(params)).digest("base64url")}`;
  const pageToken = query.get("pageToken");
  const page =
    pageToken === null || pageToken === ""
      ? undefined
      : (JSON.parse(t.tokens.verify(pageToken, t.principalId, listing)) as {
          s: number;
          e: number;
          v: number;
          i: number;
        });
  const table = await t.tables.table(t.entry.location);
  const latest = await t.tables.latest(t.entry.location);
  const start =
    page?.s ??
    startingVersion ??
    (await asParameterError(() =>
      table.versionAtTimestamp(parseTimestamp(startingTimestamp!, "startingTimestamp"), "atOrAfter"),
    ));
  let end =
    page?.e ??
    endingVersion ??
    (endingTimestamp === null
      ? latest.version
      : await asParameterError(() =>
          table.versionAtTimestamp(parseTimestamp(endingTimestamp, "endingTimestamp"), "atOrBefore"),
        ));
  if (start > latest.version)
    throw badRequest(`sharing: starting version ${start} is after the latest version ${latest.version}`);
  end = Math.min(end, latest.version);
  if (end < start)
    throw badRequest(`sharing: the ending version ${end} is before the starting version ${start}`);
  const startSnapshot = await versionSnapshot(t, start);
  if (startSnapshot.metadata.configuration?.["delta.enableChangeDataFeed"] !== "true") {
    throw new ArcuateError(
      "INVALID_PARAMETER_VALUE",
      `sharing: change data feed is not enabled on table ${t.share}.${t.schema}.${t.entry.name} at version ${start}`,
    );
  }
  const head = historicalMetadata ? startSnapshot : latest;
  const commits = await loadCommits(t, page?.v ?? start, end);
  const { format, protocol } = negotiate(
    caps,
    { ...head, deletionVectors: commitsHaveDeletionVectors(commits) },
    tableName(t),
  );
  const endAction = caps.includeEndStreamAction || maxFiles !== undefined;
  // Delta format only; a parquet answer ignores the flag (#read-change-data-feed-from-a-table).
  const protocols = historicalProtocol && format === "delta";
  const handedOut: HandedOut = { files: 0, bytes: 0 };
  return {
    headers: responseHeaders(start, format, caps.includeEndStreamAction),
    handedOut,
    lines: function* () {
      yield protocolLine(format, protocol, protocols ? head.version : undefined);
      yield metadataLine(format, head.metadata, head.version, undefined);
      const lines = new FileLines(t, format, false, handedOut);
      let count = 0;
      let next: string | undefined;
      pages: for (const commit of commits) {
        const extra = { version: commit.version, timestamp: commit.timestamp };
        const resumed = page !== undefined && commit.version === page.v;
        if ((historicalMetadata || protocols) && commit.version > start && !(resumed && page.i > 0)) {
          for (const action of commit.actions) {
            if (action.protocol && protocols) yield protocolLine(format, action.protocol, commit.version);
            if (action.metaData && historicalMetadata)
              yield metadataLine(format, action.metaData, commit.version, undefined);
          }
        }
        // A commit with change files describes its changes there; otherwise its adds and removes do.
        const cdc = commit.actions.filter((a) => a.cdc).map((a) => a.cdc!);
        const files: Array<["cdf" | "add" | "remove", AddAction | RemoveAction | CdcAction]> =
          cdc.length > 0
            ? cdc.map((c) => ["cdf", c])
            : commit.actions.flatMap((a): Array<["add" | "remove", AddAction | RemoveAction]> => {
                if (a.add && a.add.dataChange !== false) return [["add", a.add]];
                if (a.remove && a.remove.dataChange !== false) return [["remove", a.remove]];
                return [];
              });
        for (let i = resumed ? page.i : 0; i < files.length; i++) {
          if (count === maxFiles) {
            next = t.tokens.sign(
              t.principalId,
              listing,
              JSON.stringify({ s: start, e: end, v: commit.version, i }),
            );
            break pages;
          }
          const [kind, file] = files[i]!;
          count++;
          yield lines.line(kind, file, extra);
        }
      }
      if (!endAction) return;
      const action = endStream(count > 0 ? lines.expirationTimestamp : undefined) as {
        endStreamAction: EndStreamAction;
      };
      if (next !== undefined) action.endStreamAction.nextPageToken = next;
      yield action;
    },
  };
}
