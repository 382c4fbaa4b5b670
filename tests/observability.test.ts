/**
 * Observability as a client and an operator see it: `Server-Timing` on every response, the
 * Analytics Engine data point of each request, the isolate label on `/metrics`, and the JSON
 * log lines (captured from this isolate's console: the worker runs in the test's own isolate).
 */
import { createExecutionContext, env, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { Compression, TileType } from "pmtiles";
import { afterEach, describe, expect, it, vi } from "vitest";
import { writePmtiles } from "../load/driver/pmtiles-writer.mjs";
import { log } from "../shared/log";
import { pipeline, withCorrId, withErrorEnvelope, withMetrics } from "../shared/middleware";
import { serve } from "../shared/worker";
import { POINT_BLOBS, POINT_DOUBLES } from "../shared/metrics/analytics-engine";
import { addressOf, amnesiaStub, base64, call, putRaw, randomBytes } from "./helpers";
import { metricValue } from "./overlay-helpers";

type Timing = Map<string, { dur?: number; desc?: string }>;

/** `Server-Timing: cache;desc="hit", store;dur=1.5, total;dur=3` → name → { dur, desc }. */
function timingOf(response: Response): Timing {
  const header = response.headers.get("server-timing");
  expect(header, `Server-Timing on ${response.status}`).toBeTruthy();
  const out: Timing = new Map();
  for (const entry of header!.split(",")) {
    const [name, ...params] = entry.trim().split(";");
    const parsed: { dur?: number; desc?: string } = {};
    for (const param of params) {
      const [key, value] = param.split("=");
      if (key === "dur") parsed.dur = Number(value);
      if (key === "desc") parsed.desc = JSON.parse(value!);
    }
    out.set(name!, parsed);
  }
  return out;
}

/** Entry names in order (a `do` entry may join any request: the rate limiter's lease renews now and then). */
const namesOf = (timing: Timing) => [...timing.keys()];

async function stored(bytes: Uint8Array, overrides: Record<string, string> = {}): Promise<string> {
  const response = await putRaw(bytes, {}, overrides);
  expect(response.status).toBeLessThan(300);
  return ((await response.json()) as { address: string }).address;
}

describe("Server-Timing", () => {
  it("is on every response, with total last: ops, 200, HEAD, 304, 206, 404 and 405 envelopes", async () => {
    const address = await stored(randomBytes(2048));
    const get = await call(`/o/${address}`);
    const etag = get.headers.get("etag")!;
    await get.arrayBuffer();
    const answers = [
      await call("/healthz"),
      get,
      await call(`/o/${address}`, { method: "HEAD" }),
      await call(`/o/${address}`, { headers: { "If-None-Match": etag } }),
      await call(`/o/${address}`, { headers: { Range: "bytes=0-9" } }),
      await call("/no/such/route"),
      await call("/healthz", { method: "DELETE" }),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 304, 206, 404, 405]);
    for (const response of answers) {
      const timing = timingOf(response);
      expect(namesOf(timing).at(-1)).toBe("total");
      expect(timing.get("total")!.dur).toBeGreaterThanOrEqual(0);
      if (!response.bodyUsed) await response.arrayBuffer();
    }
    // routes that touch no store say so by leaving the entry out
    expect(namesOf(timingOf(answers[0]!))).toEqual(["total"]);
    expect(timingOf(answers[5]!).has("store")).toBe(false);
  });

  it("times the store and the hash of a verified read, in both stores", async () => {
    for (const overrides of [{}, { AMNESIA: "false" }] as Record<string, string>[]) {
      const address = await stored(randomBytes(4096), overrides);
      const response = await call(`/o/${address}`, {}, overrides);
      expect(response.status).toBe(200);
      const timing = timingOf(response);
      expect(timing.get("store")!.dur).toBeGreaterThanOrEqual(0);
      expect(timing.get("hash")!.dur).toBeGreaterThanOrEqual(0);
      // the object cache is asked only where objects persist (CACHE_OBJECTS defaults to !AMNESIA): a fresh object misses
      expect(timing.get("cache")?.desc).toBe(overrides.AMNESIA === "false" ? "miss" : undefined);
      await response.arrayBuffer();
    }
  });

  it("times the store write and the body hash of a put", async () => {
    const response = await putRaw(randomBytes(1024));
    expect(response.status).toBe(201);
    const timing = timingOf(response);
    expect(timing.has("store")).toBe(true);
    expect(timing.has("hash")).toBe(true);
  });

  it("times Durable Object calls as do: a mailbox send, and the rate limiter's lease when one is taken", async () => {
    const send = await call("/mailbox/send", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ topic: `timing-${Date.now()}`, idem_key: "one", payload_b64: base64(new TextEncoder().encode("hello")) }),
    });
    expect(send.status).toBe(200);
    expect(timingOf(send).has("do")).toBe(true);

    // a bucket nobody used yet needs a lease from the RateLimiter object on its first request
    const knobs = { RATE_LIMIT_KEY: "header:x-bucket", RATE_LIMIT_RPS: "100", RATE_LIMIT_BURST: "100" };
    const first = await call(`/o/b3:${"0".repeat(64)}`, { headers: { "x-bucket": `timing-${Date.now()}` } }, knobs);
    expect(timingOf(first).has("do")).toBe(true);
    await first.arrayBuffer();
  });

  it("a tile cache hit makes no store call: cache;desc=\"hit\" and no store entry", async () => {
    const tile = (label: string) => new TextEncoder().encode(`timing tile ${label}`);
    const pack = writePmtiles(
      [0, 1, 2, 3].map((i) => ({ z: 1, x: i % 2, y: i >> 1, data: tile(String(i)) })),
      { tileType: TileType.Mvt, tileCompression: Compression.None },
    );
    const path = `maps/timing-${Date.now()}.pmtiles`;
    expect((await call(`/edge/assets/${path}`, { method: "PUT", body: pack })).status).toBe(201);
    const knobs = { EDGE_PACKS: `timing=${path}`, EDGE_PACK_RECHECK_MS: "600000" };

    const miss = await call("/edge/tiles/timing/1/1/0.mvt", {}, knobs);
    expect(miss.status).toBe(200);
    const cold = timingOf(miss);
    expect(cold.get("cache")).toEqual({ desc: "miss" });
    expect(cold.has("store")).toBe(true); // the pack was read: the entry is there when a store call happens
    await miss.arrayBuffer();

    const hit = await call("/edge/tiles/timing/1/1/0.mvt", {}, knobs);
    expect(hit.status).toBe(200);
    const warm = timingOf(hit);
    expect(warm.get("cache")).toEqual({ desc: "hit" });
    expect(warm.has("store")).toBe(false);
    await hit.arrayBuffer();
  });

  it("is on the 101 of an overlay session upgrade", async () => {
    const response = await call("/overlay", { headers: { Upgrade: "websocket" } });
    expect(response.status).toBe(101);
    expect(namesOf(timingOf(response)).at(-1)).toBe("total");
    response.webSocket!.accept();
    response.webSocket!.close(1000, "done");
  });
});

/** A stand-in dataset that keeps what it is given (Miniflare's local dataset keeps nothing). */
class RecordingDataset implements AnalyticsEngineDataset {
  readonly points: AnalyticsEngineDataPoint[] = [];
  writeDataPoint(point?: AnalyticsEngineDataPoint): void {
    this.points.push(structuredClone(point ?? {}));
  }
}

describe("Analytics Engine data points (METRICS_DATASET)", () => {
  const column = <T>(values: T[] | undefined, names: readonly string[], name: string) => values?.[names.indexOf(name)];

  it("the tests run with the real local binding bound, and writing to it never fails a request", async () => {
    // Miniflare binds a local Analytics Engine dataset (vitest.config.ts); its writeDataPoint keeps
    // nothing it can be asked for again, so the layout is checked with a recording dataset below.
    expect(typeof env.METRICS_DATASET?.writeDataPoint).toBe("function");
    const before = await metricValue("analytics_engine_write_errors_total");
    expect((await call("/healthz")).status).toBe(200);
    expect(await metricValue("analytics_engine_write_errors_total")).toBe(before);
  });

  it("writes one point per request: route as index, the documented blobs and doubles", async () => {
    // Not a mock of the runtime: Miniflare's local dataset (miniflare/dist/src/workers/analytics-engine)
    // discards every point and offers no way to read them, so the test binds a dataset that keeps them.
    const dataset = new RecordingDataset();
    const withDataset = { METRICS_DATASET: dataset } as unknown as Record<string, string>;
    const address = await stored(randomBytes(3000));
    const response = await call(`/o/${address}`, {}, withDataset);
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    const missing = await call(`/o/b3:${"1".repeat(64)}`, {}, withDataset);
    expect(missing.status).toBe(404);

    expect(dataset.points).toHaveLength(2);
    const [hit, notFound] = dataset.points as [Required<AnalyticsEngineDataPoint>, Required<AnalyticsEngineDataPoint>];
    expect(hit.indexes).toEqual(["/o/:addr"]);
    expect(hit.blobs).toEqual(["micronode", "/o/:addr", "GET", "2xx", "200", ""]);
    expect(hit.doubles).toHaveLength(POINT_DOUBLES.length);
    expect(column(hit.doubles, POINT_DOUBLES, "response_bytes")).toBe(3000);
    for (const value of hit.doubles) expect(value).toBeGreaterThanOrEqual(0);
    expect(column(notFound.blobs, POINT_BLOBS, "status_class")).toBe("4xx");
    expect(column(notFound.blobs, POINT_BLOBS, "status")).toBe("404");
    // Analytics Engine's limits: one index of at most 96 bytes, at most 20 blobs and 20 doubles
    for (const point of dataset.points) {
      expect(point.indexes).toHaveLength(1);
      expect(new TextEncoder().encode(String(point.indexes![0])).length).toBeLessThanOrEqual(96);
      expect(point.blobs!.length).toBeLessThanOrEqual(20);
      expect(point.doubles!.length).toBeLessThanOrEqual(20);
    }
  });

  it("records the cache result of a tile request", async () => {
    const dataset = new RecordingDataset();
    const pack = writePmtiles([{ z: 0, x: 0, y: 0, data: new TextEncoder().encode("one tile") }], { tileType: TileType.Mvt, tileCompression: Compression.None });
    const path = `maps/ae-${Date.now()}.pmtiles`;
    expect((await call(`/edge/assets/${path}`, { method: "PUT", body: pack })).status).toBe(201);
    const knobs = { EDGE_PACKS: `ae=${path}`, METRICS_DATASET: dataset } as unknown as Record<string, string>;
    for (let i = 0; i < 2; i++) await (await call("/edge/tiles/ae/0/0/0.mvt", {}, knobs)).arrayBuffer();
    expect(dataset.points.map((p) => column(p.blobs, POINT_BLOBS, "cache"))).toEqual(["miss", "hit"]);
  });

  it("a dataset that refuses a point costs the request nothing: counted, still answered", async () => {
    const refusing = { writeDataPoint: () => { throw new Error("refused"); } };
    const before = await metricValue("analytics_engine_write_errors_total");
    const response = await call("/healthz", {}, { METRICS_DATASET: refusing } as unknown as Record<string, string>);
    expect(response.status).toBe(200);
    expect(await metricValue("analytics_engine_write_errors_total")).toBe(before + 1);
  });
});

describe("/metrics per isolate", () => {
  it("labels every series with this isolate's id, the same on every scrape", async () => {
    const scrape = async () => (await (await call("/metrics")).text()).split("\n").filter((line) => line && !line.startsWith("#"));
    const first = await scrape();
    expect(first.length).toBeGreaterThan(10);
    const ids = new Set(first.map((line) => /isolate="([0-9a-f]{16})"/.exec(line)?.[1]));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(/^[0-9a-f]{16}$/);
    const second = await scrape();
    expect(new Set(second.map((line) => /isolate="([0-9a-f]{16})"/.exec(line)?.[1]))).toEqual(ids);
    // histogram buckets keep `le` after it
    expect(first.some((line) => /^request_latency_seconds_bucket\{.*isolate="[0-9a-f]{16}",le="0\.005"\}/.test(line))).toBe(true);
  });
});

describe("structured logs", () => {
  afterEach(() => vi.restoreAllMocks());

  /** Every line written to the console while `run` runs, parsed as JSON (a non-JSON line fails). */
  async function linesDuring(run: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
    const lines: string[] = [];
    for (const method of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    }
    await run();
    vi.restoreAllMocks();
    return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  it("an integrity failure is one JSON error line with the request's corr id, service and route, and none of the bytes", async () => {
    const marker = "PAYLOAD-MARKER-do-not-log";
    const bytes = new TextEncoder().encode(marker.repeat(20));
    const address = await stored(bytes);
    await runInDurableObject(amnesiaStub(address.slice(3)), (instance) => {
      (instance as unknown as { objects: Map<string, { bytes: Uint8Array }> }).objects.get(address.slice(3))!.bytes[3]! ^= 1;
    });
    const corrId = `log-test-${Date.now()}`;
    const lines = await linesDuring(async () => {
      const response = await call(`/o/${address}`, { headers: { "X-Corr-ID": corrId } });
      expect(response.status).toBe(502);
      await response.arrayBuffer();
    });
    const failure = lines.find((line) => line.msg === "integrity failure");
    expect(failure).toMatchObject({ level: "error", corr_id: corrId, service: "micronode", route: "/o/:addr", address, store: "amnesia" });
    expect(Date.parse(String(failure!.ts))).not.toBeNaN();
    const text = JSON.stringify(lines);
    expect(text).not.toContain("PAYLOAD-MARKER");
    expect(text).not.toContain(base64(bytes).slice(0, 24));
  });

  it("an unexpected exception is one error line with the stack and the corr id, never the token; its 500 carries Server-Timing", async () => {
    const failing = serve("test", pipeline(withCorrId(), withMetrics(), withErrorEnvelope())(async () => {
      throw new Error("kaboom in a handler");
    }));
    let response: Response | undefined;
    const lines = await linesDuring(async () => {
      const ctx = createExecutionContext();
      const request = new Request("http://node/anything", { headers: { "X-Corr-ID": "corr-kaboom", Authorization: "Bearer top-secret-token" } });
      response = await failing(request, env as never, ctx);
      await waitOnExecutionContext(ctx);
    });
    expect(response!.status).toBe(500);
    expect(namesOf(timingOf(response!)).at(-1)).toBe("total");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: "error", msg: "unexpected error", corr_id: "corr-kaboom", service: "test", route: "unmatched" });
    expect(String(lines[0]!.error)).toContain("kaboom in a handler");
    expect(JSON.stringify(lines)).not.toContain("top-secret-token");
  });

  it("LOG_LEVEL=debug adds one request line per request; the default writes none", async () => {
    const quiet = await linesDuring(async () => (await call("/healthz")).arrayBuffer());
    expect(quiet).toEqual([]);
    const corrId = `debug-${Date.now()}`;
    const loud = await linesDuring(async () => (await call("/healthz", { headers: { "X-Corr-ID": corrId } }, { LOG_LEVEL: "debug" })).arrayBuffer());
    expect(loud).toHaveLength(1);
    expect(loud[0]).toMatchObject({ level: "debug", msg: "request", corr_id: corrId, route: "/healthz", status: 200, method: "GET" });
    expect(typeof loud[0]!.total_ms).toBe("number");
  });

  it("LOG_LEVEL=error keeps warnings out; an invalid LOG_LEVEL is a configuration error", async () => {
    const scope = (level: string) => ({ configResult: { ok: true as const, config: { LOG_LEVEL: level } as never } });
    const kept = await linesDuring(async () => {
      log.warn(scope("error"), "dropped");
      log.error(scope("error"), "kept");
    });
    expect(kept.map((line) => line.msg)).toEqual(["kept"]);
    const response = await call("/readyz", {}, { LOG_LEVEL: "verbose" });
    expect(response.status).toBe(503);
    expect(JSON.stringify(await response.json())).toContain("LOG_LEVEL");
  });

  it("never writes a field named like a payload or a token, and cuts long values", async () => {
    const lines = await linesDuring(async () => {
      log.error({ corrId: "c1" }, "with secrets", { payload: "raw bytes", authorization: "Bearer abc", token: "t", idem_key: "k", error: "x".repeat(5000), topic: "kept" });
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ corr_id: "c1", payload: "[redacted]", authorization: "[redacted]", token: "[redacted]", idem_key: "[redacted]", topic: "kept" });
    expect(String(lines[0]!.error).length).toBeLessThan(2100);
  });
});
