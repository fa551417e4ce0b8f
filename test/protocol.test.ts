import { describe, expect, it } from "vitest";
import { formatCapabilities, nameProblem, parseCapabilities } from "../src/sharing/protocol.js";

describe("sharing protocol helpers", () => {
  it("parses the capabilities header case-insensitively", () => {
    const parsed = parseCapabilities(
      "ResponseFormat=delta,Parquet;readerfeatures=deletionVectors;includeEndStreamAction=true",
    );
    expect(parsed).toEqual({
      responseFormat: ["delta", "parquet"],
      readerFeatures: ["deletionvectors"],
      includeEndStreamAction: true,
    });
    expect(parseCapabilities(formatCapabilities(parsed))).toEqual(parsed);
  });

  it.each([
    ["share", "my share", "has a space"],
    ["share", "a/b", "has a space, '/'"],
    ["schema", "a.b", "has a '.'"],
    ["table", "x".repeat(256), "longer than 255"],
  ] as const)("refuses the %s name %j", (kind, name, problem) => {
    expect(nameProblem(kind, name)).toContain(problem);
  });

  it("accepts a share name with a dot", () => {
    expect(nameProblem("share", "team.share")).toBeUndefined();
  });
});
