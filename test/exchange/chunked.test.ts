// Artifacts are cut into chunks of exactly CHUNK_BYTES (the last shorter) whatever pieces the
// download stream hands out: a property test over random piece sizes and chunk sizes.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chunked } from "../../src/exchange/assets/artifacts.js";

async function* stream(pieces: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const piece of pieces) yield piece;
}

describe("chunked", () => {
  it("cuts any stream into chunks of exactly the size, the last shorter, bytes intact", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 50 }), { maxLength: 20 }),
        fc.integer({ min: 1, max: 40 }),
        async (pieces, size) => {
          const chunks: Uint8Array[] = [];
          for await (const chunk of chunked(stream(pieces), size)) chunks.push(new Uint8Array(chunk));
          const all = Buffer.concat(pieces);
          expect(Buffer.concat(chunks)).toEqual(all);
          expect(chunks.length).toBe(Math.ceil(all.length / size));
          for (const chunk of chunks.slice(0, -1)) expect(chunk.length).toBe(size);
          if (chunks.length > 0) expect(chunks.at(-1)!.length).toBeGreaterThan(0);
        },
      ),
    );
  });
});
