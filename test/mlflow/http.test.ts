// Retry rules of the MLflow client's wire, against a scripted HTTP server (a unit test: the
// behaviour of real MLflow servers is covered in client.test.ts).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { quoteNonFiniteTokens } from "../../src/mlflow/http.js";
import { MlflowClient, type TraceInfo } from "../../src/mlflow/index.js";

let server: Server | undefined;

async function scripted(replies: Array<[number, object]>): Promise<{ uri: string; requests: () => number }> {
  let count = 0;
  server = createServer((_request, response) => {
    const [status, body] = replies[Math.min(count, replies.length - 1)]!;
    count++;
    response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return { uri: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => count };
}

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

const experiment = { experiment: { experiment_id: "1", name: "e" } };

describe("retries", () => {
  it("retries an overloaded MLflow's HTTP 400 (its connection pool timing out) and then succeeds", async () => {
    const pool = {
      error_code: "BAD_REQUEST",
      message: "QueuePool limit of size 5 overflow 10 reached, connection timed out",
    };
    const { uri, requests } = await scripted([
      [400, pool],
      [503, {}],
      [200, experiment],
    ]);
    const client = new MlflowClient({ trackingUri: uri, backoffMs: 1 });
    expect((await client.experiments.get("1")).name).toBe("e");
    expect(requests()).toBe(3);
  });

  it("does not retry any other 4xx, and names MLflow's error", async () => {
    const { uri, requests } = await scripted([
      [400, { error_code: "INVALID_PARAMETER_VALUE", message: "bad key" }],
    ]);
    const client = new MlflowClient({ trackingUri: uri, backoffMs: 1 });
    await expect(client.experiments.get("1")).rejects.toThrow(
      "mlflow: GET /api/2.0/mlflow/experiments/get failed with HTTP 400 INVALID_PARAMETER_VALUE: bad key",
    );
    expect(requests()).toBe(1);
  });

  it("gives up after its retries on a server that keeps failing", async () => {
    const { uri, requests } = await scripted([[500, { error_code: "INTERNAL_ERROR", message: "boom" }]]);
    const client = new MlflowClient({ trackingUri: uri, backoffMs: 1, maxRetries: 2 });
    await expect(client.experiments.get("1")).rejects.toMatchObject({
      code: "INTERNAL_ERROR",
      httpStatus: 500,
    });
    expect(requests()).toBe(3);
  });
});

describe("Python's bare NaN and Infinity in JSON", () => {
  it("are read as MLflow's quoted forms, values only", () => {
    const text =
      '{"metrics":[{"key":"a: b","value":NaN},{"value": -Infinity ,"k":1},{"value":Infinity}],"s":"x:NaN"}';
    expect(JSON.parse(quoteNonFiniteTokens(text))).toEqual({
      metrics: [{ key: "a: b", value: "NaN" }, { value: "-Infinity", k: 1 }, { value: "Infinity" }],
      s: "x:NaN",
    });
  });
});

describe("a connection lost after the request was sent", () => {
  /** Drops the connection of each request whose number `drop` names, after reading it; answers the rest. */
  async function dropping(drop: (n: number) => boolean, body: object) {
    let count = 0;
    server = createServer((request, response) => {
      const n = ++count;
      request.resume();
      request.on("end", () => {
        if (drop(n)) request.socket.destroy();
        else response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    return { uri: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, requests: () => count };
  }

  it("sends a trace's info again (StartTraceV3 is keyed by the trace id it carries)", async () => {
    const info: TraceInfo = {
      trace_id: "tr-0123",
      trace_location: { type: "MLFLOW_EXPERIMENT" },
      state: "OK",
    };
    const { uri, requests } = await dropping((n) => n === 1, { trace: { trace_info: info } });
    const client = new MlflowClient({ trackingUri: uri, backoffMs: 1 });
    expect((await client.traces.start(info)).trace_id).toBe("tr-0123");
    expect(requests()).toBe(2);
  });

  it("does not send a run's create again, and says the answer was lost", async () => {
    const { uri, requests } = await dropping(() => true, {});
    const client = new MlflowClient({ trackingUri: uri, backoffMs: 1 });
    await expect(client.runs.create("1", { runName: "once" })).rejects.toThrow(/runs\/create/);
    expect(requests()).toBe(1);
  });
});
