// What the provider's commands share: the working folder's catalog, where they print, and the
// parsers of their option values (each error names the option's value and what it should be like).

import { ArcuateError } from "../errors.js";
import { resolveWorkDir, retiredVariablesWarning, workDirOption } from "../workdir.js";
import { Catalog, type RateLimit } from "./catalog/catalog.js";
import { resolveCatalogLocation } from "./catalog/location.js";
import { checkRateLimit, normaliseAddressRange, RATE_UNITS } from "./catalog/recipient-limits.js";

export interface CommandIo {
  out: (text: string) => void;
}

export const stdoutIo: CommandIo = { out: (text) => process.stdout.write(text) };

export const dirOption = workDirOption;
export const openCatalog = (options: { workdir?: string; catalog?: string }) => {
  const warning = retiredVariablesWarning();
  if (warning) process.stderr.write(`${warning}\n`);
  const workDir = resolveWorkDir(options.workdir);
  return Catalog.open(resolveCatalogLocation(options.catalog, workDir), { workDir });
};

export function collectRanges(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(",").map(normaliseAddressRange)];
}

/** `600/minute`, `10/second`, `5000 per hour`. */
export function parseRateLimit(value: string): RateLimit {
  const m = /^\s*(\d{1,7})\s*(?:\/|\s+per\s+)\s*(second|minute|hour)s?\s*$/i.exec(value);
  if (!m)
    throw new ArcuateError(
      "INVALID_PARAMETER_VALUE",
      `rate limit '${value}' is not like 600/minute, 10/second or 5000/hour`,
    );
  return checkRateLimit({
    requests: Number(m[1]),
    perSeconds: RATE_UNITS[m[2]!.toLowerCase() as keyof typeof RATE_UNITS],
  });
}

export function splitQualified(qualified: string): [string, string] {
  const parts = qualified.split(".");
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new ArcuateError("INVALID_PARAMETER_VALUE", `share: expected <schema>.<table>, not '${qualified}'`);
  }
  return [parts[0], parts[1]];
}

export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ArcuateError("INVALID_PARAMETER_VALUE", `serve: port '${value}' is not 0..65535`);
  return port;
}

export function parsePositive(value: string): number {
  const n = Number(value);
  if (!(n > 0))
    throw new ArcuateError("INVALID_PARAMETER_VALUE", `serve: '${value}' is not a positive number`);
  return n;
}

/** Seconds from `3600`, `90s`, `15m`, `12h` or `30d`. */
export function parseDuration(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/i.exec(value);
  if (!m)
    throw new ArcuateError(
      "INVALID_PARAMETER_VALUE",
      `recipient: duration '${value}' is not like 3600, 90m, 12h or 30d`,
    );
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2]!.toLowerCase() as "" | "s" | "m" | "h" | "d"];
  return Number(m[1]) * unit;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
