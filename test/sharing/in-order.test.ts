// The client's read-ahead (inOrder in src/sharing/client/load.ts): results in item order, and a
// stream holds at most its byte budget of files it has not handed out yet (always one).
import { describe, expect, it } from "vitest";
import { inOrder } from "../../src/sharing/client/load.js";

async function drain(sizes: number[], bytes?: number) {
  let started = 0;
  let consumed = 0;
  let mostAhead = 0;
  const order: number[] = [];
  const task = async (i: number) => {
    started++;
    mostAhead = Math.max(mostAhead, started - consumed);
    await new Promise((resolve) => setTimeout(resolve, 1));
    return i;
  };
  const ahead = bytes === undefined ? {} : { bytes, size: (i: number) => sizes[i]! };
  for await (const [, result] of inOrder(
    [...sizes.keys()],
    4,
    (i, limited) => limited(() => task(i)),
    ahead,
  )) {
    order.push(result);
    // A slow consumer: everything that can be read ahead is.
    await new Promise((resolve) => setTimeout(resolve, 5));
    consumed++;
  }
  return { order, mostAhead };
}

describe("read-ahead of data files", () => {
  it("yields every file in order, reading up to twice the download places ahead", async () => {
    const { order, mostAhead } = await drain(Array(20).fill(1));
    expect(order).toEqual([...Array(20).keys()]);
    expect(mostAhead).toBe(8);
  });

  it("reads ahead no more bytes than its budget, but always one file however large", async () => {
    const mb = 1024 * 1024;
    const small = await drain(Array(20).fill(8 * mb), 32 * mb);
    expect(small.order).toEqual([...Array(20).keys()]);
    expect(small.mostAhead).toBe(4);
    const huge = await drain([100 * mb, 100 * mb, 100 * mb], 32 * mb);
    expect(huge.order).toEqual([0, 1, 2]);
    expect(huge.mostAhead).toBe(1);
  });
});
