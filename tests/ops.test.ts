import { runInDurableObject } from "cloudflare:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import packageJson from "../package.json";
import { R2, TEST_AMNESIA_SHARDS, addressOf, amnesiaShardStub, amnesiaStub, amnesiaUsedBytes, call, putRaw, randomBytes, metricsText, withoutIsolate } from "./helpers";

interface PromFamily {
  name: string;
  help: string;
  type: string;
  metrics: { labels?: Record<string, string>; value?: string; buckets?: Record<string, string>; count?: string; sum?: string }[];
}

const scrape = async (overrides: Record<string, string> = {}): Promise<PromFamily[]> => {
  const response = await call("/metrics", {}, overrides);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parsePrometheusTextFormat(withoutIsolate(await response.text())) as PromFamily[];
};
const family = (families: PromFamily[], name: string) => families.find((f) => f.name === name);

describe("ops surface", () => {
  it("answers /healthz with 200", async () => {
    const response = await call("/healthz");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
  });

  it("answers /readyz with 200 ready:true when config and store are fine, in both store modes", async () => {
    for (const overrides of [{}, R2]) {
      const response = await call("/readyz", {}, overrides);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ ready: true });
    }
  });

  it("answers /version with version, git, build and features", async () => {
    const response = await call("/version", {}, { BUILD_GIT_SHA: "abc1234", BUILD_TIME: "2026-11-22T10:00:00Z" });
    expect(await response.json()).toEqual({ version: packageJson.version, git: "abc1234", build: "2026-11-22T10:00:00Z", features: ["interop", "amnesia", "overlay", "pq:hybrid", "edge"] });
    expect((await (await call("/version", {}, R2)).json<any>()).features).toEqual(["interop", "r2", "overlay", "pq:hybrid", "edge"]);
  });

  it("exposes the golden metric families in Prometheus text format with route templates as labels", async () => {
    const bytes = randomBytes(100);
    const put = await putRaw(bytes);
    const { address } = await put.json<any>();
    await call(`/o/${address}`);
    await call(`/o/b3:${"0".repeat(64)}`);
    await call("/no/such/route");
    const families = await scrape();

    for (const name of ["http_requests_total", "request_latency_seconds", "inflight_requests", "rejected_total", "integrity_fail_total", "queue_depth", "queue_dropped_total"]) {
      expect(family(families, name), name).toBeDefined();
    }
    const requests = family(families, "http_requests_total")!;
    expect(requests.type).toBe("COUNTER");
    const routes = new Set(requests.metrics.map((m) => m.labels!.route));
    expect(routes).toContain("/o/:addr");
    expect(routes).toContain("/put");
    expect(routes).toContain("unmatched");
    expect([...routes].some((r) => r?.includes("b3:"))).toBe(false); // never raw paths
    const served = requests.metrics.find((m) => m.labels!.route === "/o/:addr" && m.labels!.status === "200" && m.labels!.method === "GET");
    expect(Number(served!.value)).toBeGreaterThanOrEqual(1);
    expect(served!.labels!.service).toBe("micronode");
    const notFound = requests.metrics.find((m) => m.labels!.route === "/o/:addr" && m.labels!.status === "404");
    expect(Number(notFound!.value)).toBeGreaterThanOrEqual(1);

    // This parser flattens labelled histograms into one bucket map, so check the series text too.
    const latency = family(families, "request_latency_seconds")!;
    expect(latency.type).toBe("HISTOGRAM");
    expect(Object.keys(latency.metrics[0]!.buckets!).sort()).toEqual(["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2", "5", "+Inf"].sort());
    const text = await metricsText();
    const putCount = /^request_latency_seconds_count\{service="micronode",route="\/put",method="POST"\} (\d+)$/m.exec(text);
    expect(Number(putCount?.[1])).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^request_latency_seconds_bucket\{service="micronode",route="\/put",method="POST",le="\+Inf"\} \d+$/m);
  });

  it("reports the RAM store's bytes and budget", async () => {
    await putRaw(randomBytes(777));
    const families = await scrape({ AMNESIA_MAX_BYTES: "5000000" });
    expect(family(families, "object_store_budget_bytes")!.metrics[0]!.value).toBe("5000000");
    expect(Number(family(families, "object_store_bytes")!.metrics[0]!.value)).toBeGreaterThanOrEqual(777);
  });
});

describe("truthful readiness", () => {
  it("reports invalid config by name on /readyz and refuses work with 503 NOT_READY", async () => {
    const bad = { MAX_BODY_BYTES: "lots", REQUEST_TIMEOUT_MS: "-5" };
    const ready = await call("/readyz", {}, bad);
    expect(ready.status).toBe(503);
    expect(ready.headers.get("retry-after")).toBe("5");
    const report = await ready.json<any>();
    expect(report.ready).toBe(false);
    expect(report.missing).toContain("config");
    expect(report.retry_after).toBe(5);
    expect(report.detail.config).toMatch(/MAX_BODY_BYTES/);
    expect(report.detail.config).toMatch(/REQUEST_TIMEOUT_MS/);

    const put = await putRaw(randomBytes(10), {}, bad);
    expect(put.status).toBe(503);
    const envelope = await put.json<any>();
    expect(envelope.reason).toBe("NOT_READY");
    expect(envelope.message).toMatch(/MAX_BODY_BYTES/);
    expect(put.headers.get("retry-after")).toBeTruthy();
    // ops routes still answer
    expect((await call("/healthz", {}, bad)).status).toBe(200);
    expect((await call("/metrics", {}, bad)).status).toBe(200);
  });

  it("never shows a secret's value in config errors", async () => {
    const report = await (await call("/readyz", {}, { SENTRY_DSN: "not a url but secret-token-123" })).json<any>();
    expect(report.detail.config).toMatch(/SENTRY_DSN/);
    expect(JSON.stringify(report)).not.toContain("secret-token-123");
  });

  it("degrades when the RAM budget can no longer take a full-size body, refuses writes that do not fit with 503, keeps serving reads", async () => {
    // one shard: the whole budget in one object, as before sharding (tests/amnesia-shards.test.ts: several)
    const usedBytes = await amnesiaUsedBytes(1);
    const tight = { AMNESIA_SHARDS: "1", AMNESIA_MAX_BYTES: String(usedBytes + 3000), MAX_BODY_BYTES: "2000" };

    expect((await call("/readyz", {}, tight)).status).toBe(200); // 3000 free ≥ 2000
    const first = randomBytes(1500);
    const stored = await putRaw(first, {}, tight);
    expect(stored.status).toBe(201);

    const ready = await call("/readyz", {}, tight); // 1500 free < 2000
    expect(ready.status).toBe(503);
    const report = await ready.json<any>();
    expect(report).toMatchObject({ ready: false, degraded: true, missing: ["store_capacity"] });

    const refused = await putRaw(randomBytes(1600), {}, tight);
    expect(refused.status).toBe(503);
    expect((await refused.json<any>()).code).toBe("STORE_FULL");
    expect((await putRaw(randomBytes(1000), {}, tight)).status).toBe(201); // what fits still fits
    const { address } = await stored.json<any>();
    expect((await call(`/o/${address}`, {}, tight)).status).toBe(200);
  });

  it("never writes amnesia objects to Durable Object storage, in any shard", async () => {
    const bytes = randomBytes(5000);
    await putRaw(bytes);
    await runInDurableObject(amnesiaStub(addressOf(bytes).slice(3)), async (instance, state) => {
      expect((instance as unknown as { objects: Map<string, unknown> }).objects.has(addressOf(bytes).slice(3))).toBe(true); // the shard that holds it
      expect((await state.storage.list()).size).toBe(0);
    });
    for (let index = 0; index < TEST_AMNESIA_SHARDS; index++) {
      await runInDurableObject(amnesiaShardStub(index), async (_instance, state) => expect((await state.storage.list()).size).toBe(0));
    }
  });
});
