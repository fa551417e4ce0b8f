// new SharingClient names a wrong argument when it is made, instead of failing at the first
// request with "Invalid URL" (the defect seen with `new SharingClient({ profile: "x.share" })`).
import { expect, it } from "vitest";
import { SharingClient } from "../../src/sharing/client/index.js";

const profile = {
  shareCredentialsVersion: 1,
  endpoint: "http://127.0.0.1:1/delta-sharing",
  bearerToken: "t",
};
const hint = "use await SharingClient.fromProfile(path) or new SharingClient(await loadProfile(path))";

it.each([
  [
    { profile: "x.share" },
    `sharing: new SharingClient takes the profile itself, not { profile: 'x.share' }: ${hint}`,
  ],
  ["x.share", `sharing: new SharingClient takes a loaded profile, not the string 'x.share': ${hint}`],
  [undefined, `sharing: new SharingClient takes a loaded profile, not undefined: ${hint}`],
  [
    { endpoint: "http://h/ds", bearerToken: "t" },
    "sharing: the profile given to new SharingClient has no 'shareCredentialsVersion'",
  ],
  [
    { ...profile, endpoint: "127.0.0.1:8080" },
    "sharing: the profile given to new SharingClient has an invalid 'endpoint' '127.0.0.1:8080' (expected an http or https URL)",
  ],
])("refuses the profile %j", (given, message) => {
  expect(() => new SharingClient(given as never)).toThrow(message);
});

it.each([
  [{ concurrency: 0 }, "sharing: SharingClient option 'concurrency' must be a whole number >= 1, not 0"],
  [{ maxResults: "10" }, `sharing: SharingClient option 'maxResults' must be a whole number >= 1, not "10"`],
  [
    { decodeWorkers: -1 },
    "sharing: SharingClient option 'decodeWorkers' must be a whole number >= 0, not -1",
  ],
  [
    { responseFormats: ["csv"] },
    `sharing: SharingClient option 'responseFormats' must list "parquet" and/or "delta", not ["csv"]`,
  ],
])("refuses the options %j", (options, message) => {
  expect(() => new SharingClient(profile, options as never)).toThrow(message);
});

it("takes a profile object as loadProfile returns it, trailing slash and all", () => {
  const client = new SharingClient({ ...profile, endpoint: `${profile.endpoint}/` }, { concurrency: 2 });
  expect(client.profile.endpoint).toBe(profile.endpoint);
});
