/**
 * Unread request bodies are drained (bounded) before the answer leaves, so a keep-alive
 * connection survives a refusal. Here, inside workerd, the proof is what the worker pulls from
 * the body stream; tests/node/keep-alive.test.ts shows the connection itself over a socket.
 */
import { describe, expect, it } from "vitest";
import { call, envelopeOf, randomBytes } from "./helpers";

/** A body that records how much of it was pulled and whether it was cancelled. */
function observedBody(chunks: number, chunkBytes: number, delayMs = 0) {
  const seen = { pulled: 0, ended: false, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      if (seen.pulled === chunks) {
        seen.ended = true;
        controller.close();
        return;
      }
      seen.pulled++;
      controller.enqueue(randomBytes(chunkBytes));
    },
    cancel() {
      seen.cancelled = true;
    },
  });
  return { stream, seen };
}

const send = (path: string, method: string, body: ReadableStream<Uint8Array>, headers: Record<string, string> = {}, overrides: Record<string, string> = {}) =>
  call(path, { method, body, headers, duplex: "half" } as RequestInit, overrides);

describe("unread request bodies", () => {
  it("are read to the end after refusals that never looked at them (404, 405, 413, 401)", async () => {
    const refusals: [string, string, Record<string, string>, Record<string, string>, number][] = [
      ["/no-such-route", "POST", {}, {}, 404],
      ["/put", "DELETE", {}, {}, 405],
      ["/put", "POST", { "Content-Length": "8192" }, { MAX_BODY_BYTES: "1024" }, 413],
      ["/mailbox/send", "POST", { "Content-Type": "application/json", authorization: "" }, {}, 401],
    ];
    for (const [path, method, headers, overrides, status] of refusals) {
      const { stream, seen } = observedBody(8, 1024);
      const response = await send(path, method, stream, headers, overrides);
      expect(response.status, `${method} ${path}`).toBe(status);
      expect(seen, `${method} ${path}`).toMatchObject({ pulled: 8, ended: true, cancelled: false });
    }
  });

  it("stop at the request deadline when the body trickles, and the refusal still answers", async () => {
    const { stream, seen } = observedBody(40, 100, 20); // 40 × 20 ms: 800 ms if read to the end
    const started = Date.now();
    const response = await send("/no-such-route", "POST", stream, {}, { REQUEST_TIMEOUT_MS: "150" });
    expect(response.status).toBe(404);
    expect((await envelopeOf(response)).code).toBe("NOT_FOUND");
    expect(Date.now() - started).toBeLessThan(600);
    expect(seen.ended).toBe(false);
    expect(seen.cancelled).toBe(true);
  });

  it("are cancelled, not read, past BODY_DRAIN_MAX_BYTES (declared or counted) or when drains are off", async () => {
    const declared = observedBody(8, 1024);
    expect((await send("/no-such-route", "POST", declared.stream, { "Content-Length": "8192" }, { BODY_DRAIN_MAX_BYTES: "4096" })).status).toBe(404);
    expect(declared.seen.pulled).toBeLessThanOrEqual(1); // at most the stream's own first prefetch
    expect(declared.seen.cancelled).toBe(true);

    const counted = observedBody(8, 1024); // no length: read until the cap is passed, then cancelled
    expect((await send("/no-such-route", "POST", counted.stream, {}, { BODY_DRAIN_MAX_BYTES: "4096" })).status).toBe(404);
    expect(counted.seen.pulled).toBeLessThan(8);
    expect(counted.seen.cancelled).toBe(true);

    const off = observedBody(8, 1024);
    expect((await send("/no-such-route", "POST", off.stream, {}, { BODY_DRAIN_MAX_BYTES: "0" })).status).toBe(404);
    expect(off.seen.pulled).toBeLessThanOrEqual(1);
    expect(off.seen.cancelled).toBe(true);
  });

  it("are not waited for when the client expects 100-continue (it sends nothing until told)", async () => {
    const { stream, seen } = observedBody(8, 1024);
    const response = await send("/no-such-route", "POST", stream, { Expect: "100-continue" });
    expect(response.status).toBe(404);
    expect(seen.pulled).toBeLessThanOrEqual(1);
    expect(seen.cancelled).toBe(true);
  });

  it("leave bodies the handler read alone, and BODY_DRAIN_MAX_BYTES is validated", async () => {
    const { stream, seen } = observedBody(4, 256);
    const response = await send("/put", "POST", stream, { "Content-Type": "application/octet-stream" });
    expect(response.status).toBe(201);
    expect(seen).toMatchObject({ pulled: 4, ended: true, cancelled: false });
    const bad = await call("/put", { method: "POST", body: "x" }, { BODY_DRAIN_MAX_BYTES: "-1" });
    expect(bad.status).toBe(503);
    expect((await envelopeOf(bad)).message).toContain("BODY_DRAIN_MAX_BYTES");
  });
});
