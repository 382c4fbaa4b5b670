import { describe, expect, it } from "vitest";
import { call, envelopeOf, putRaw, randomBytes, trickle, metricsText } from "./helpers";

describe("shared hardening layer", () => {
  it("echoes an incoming X-Corr-ID, and accepts x-correlation-id and x-request-id", async () => {
    for (const header of ["X-Corr-ID", "x-correlation-id", "x-request-id"]) {
      const response = await call("/healthz", { headers: { [header]: "trace-42" } });
      expect(response.headers.get("x-corr-id")).toBe("trace-42");
    }
  });

  it("generates a corr id when none (or a junk one) is sent, and puts it in error envelopes", async () => {
    const plain = await call("/healthz");
    expect(plain.headers.get("x-corr-id")).toMatch(/^[0-9a-f-]{36}$/);
    const junk = await call("/nope", { headers: { "X-Corr-ID": "bad id with spaces\u0001" } });
    expect(junk.headers.get("x-corr-id")).toMatch(/^[0-9a-f-]{36}$/);
    const envelope = await envelopeOf(junk); // checks corr_id === X-Corr-ID
    expect(envelope).toMatchObject({ code: "NOT_FOUND", retryable: false });
  });

  it("answers unknown routes with the 404 envelope and unknown methods with 405 + Allow", async () => {
    const missing = await call("/definitely/not/here", { method: "POST", body: "x" });
    expect(missing.status).toBe(404);
    expect((await envelopeOf(missing)).code).toBe("NOT_FOUND");
    const wrong = await call("/healthz", { method: "DELETE" });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET, HEAD");
    expect((await envelopeOf(wrong)).code).toBe("METHOD_NOT_ALLOWED");
  });

  it("answers HEAD errors with headers and no body", async () => {
    const response = await call(`/o/b3:${"c".repeat(64)}`, { method: "HEAD" });
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });

  it("refuses a declared Content-Length over the cap before reading any byte", async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(randomBytes(1024));
        if (pulled > 3) controller.close();
      },
    });
    // over BODY_DRAIN_MAX_BYTES too (4 MiB), so the refused body is not even drained afterwards
    const response = await call("/put", { method: "POST", body, headers: { "Content-Length": String(8 * 1024 * 1024) }, duplex: "half" } as RequestInit);
    expect(response.status).toBe(413);
    expect(await envelopeOf(response)).toMatchObject({ code: "PAYLOAD_TOO_LARGE", reason: "body_cap" });
    expect(pulled).toBeLessThanOrEqual(1); // at most the stream's own first prefetch
  });

  it("refuses oversized headers with 431 HEADERS_TOO_LARGE, on ops routes too", async () => {
    for (const path of ["/healthz", "/put"]) {
      const response = await call(path, { method: path === "/put" ? "POST" : "GET", body: path === "/put" ? "x" : undefined, headers: { "x-junk": "a".repeat(40 * 1024) } });
      expect(response.status).toBe(431);
      expect(await envelopeOf(response)).toMatchObject({ code: "HEADERS_TOO_LARGE", reason: "header_cap" });
    }
    expect((await call("/healthz", { headers: { "x-junk": "a".repeat(2000) } }, { MAX_HEADER_BYTES: "1024" })).status).toBe(431);
    expect((await call("/healthz", { headers: { "x-ok": "a".repeat(1000) } })).status).toBe(200);
  });

  it("times out a request whose body trickles past REQUEST_TIMEOUT_MS with 503 TIMEOUT and stores nothing", async () => {
    const chunks = Array.from({ length: 40 }, () => randomBytes(100));
    const started = Date.now();
    const response = await call(
      "/put",
      { method: "POST", body: trickle(chunks, 20), headers: { "Content-Type": "application/octet-stream" }, duplex: "half" } as RequestInit,
      { REQUEST_TIMEOUT_MS: "150" },
    );
    expect(response.status).toBe(503);
    const envelope = await envelopeOf(response);
    expect(envelope).toMatchObject({ code: "SERVICE_UNAVAILABLE", reason: "TIMEOUT", retryable: true });
    expect(envelope.retry_after_ms).toBeGreaterThan(0);
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(response.headers.get("x-reason")).toBe("TIMEOUT");
    expect(Date.now() - started).toBeLessThan(700); // 40 × 20 ms would be 800 ms
    const whole = new Uint8Array(4000);
    chunks.forEach((c, i) => whole.set(c, i * 100));
    const { addressOf } = await import("./helpers");
    expect((await call(`/o/${addressOf(whole)}`)).status).toBe(404);
  });

  it("sheds with 503 BACKPRESSURE once MAX_INFLIGHT requests are in flight, and counts it", async () => {
    const slow = () =>
      call("/put", { method: "POST", body: trickle([randomBytes(10), randomBytes(10)], 150), duplex: "half" } as RequestInit, { MAX_INFLIGHT: "2" });
    const first = [slow(), slow()];
    await new Promise((r) => setTimeout(r, 50));
    const shed = await putRaw(randomBytes(10), {}, { MAX_INFLIGHT: "2" });
    expect(shed.status).toBe(503);
    const envelope = await envelopeOf(shed);
    expect(envelope.reason).toBe("BACKPRESSURE");
    expect(shed.headers.get("retry-after")).toBe("1");
    expect((await call("/healthz", {}, { MAX_INFLIGHT: "2" })).status).toBe(200); // ops routes are never shed
    for (const r of await Promise.all(first)) expect(r.status).toBe(201);
    const metrics = await metricsText();
    expect(metrics).toMatch(/^rejected_total\{reason="BACKPRESSURE"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^rejected_total\{reason="TIMEOUT"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^busy_rejections_total\{endpoint="\/put"\} [1-9]\d*$/m);
  });
});
