import { describe, expect, inject, it } from "vitest";
import { addressOf, bytesOf, call, envelopeOf, metricsText } from "./helpers";

const host = () => `127.0.0.1:${inject("upstreamPort")}`;
const live = (extra: Record<string, string> = {}) => ({
  EDGE_MODE: "live",
  EDGE_ALLOW_HOSTS: host(),
  EDGE_UPSTREAM_SCHEME: "http",
  EDGE_UPSTREAM_TIMEOUT_MS: "300",
  EDGE_RETRY_BASE_MS: "10",
  ...extra,
});
const unique = () => crypto.randomUUID().slice(0, 8);
const upstreamHits = async (): Promise<Record<string, number>> => (await fetch(`http://${host()}/__hits`)).json();
const encoder = new TextEncoder();

describe("edge live fill (EDGE_MODE=live)", () => {
  it("fills a miss from the allow-listed upstream, stores it, and serves later hits without the upstream", async () => {
    const id = unique();
    const first = await call(`/edge/assets/${host()}/files/${id}.txt`, {}, live());
    expect(first.status).toBe(200);
    expect(await first.text()).toBe(`content of ${id}.txt`);
    expect(first.headers.get("etag")).toBe(`"${addressOf(encoder.encode(`content of ${id}.txt`))}"`);
    const again = await call(`/edge/assets/${host()}/files/${id}.txt`, { headers: { Range: "bytes=0-6" } }, live());
    expect(again.status).toBe(206);
    expect(await again.text()).toBe("content");
    expect((await upstreamHits())[`/files/${id}.txt`]).toBe(1);
  });

  it("makes one upstream fetch for concurrent misses of one asset (single flight)", async () => {
    const id = unique();
    const responses = await Promise.all(Array.from({ length: 8 }, () => call(`/edge/assets/${host()}/slow/${id}`, {}, live())));
    for (const r of responses) expect(await r.text()).toBe(`slow ${id}`);
    expect((await upstreamHits())[`/slow/${id}`]).toBe(1);
  });

  it("refuses hosts that are not allow-listed with 403 not_allowed, and serves nothing in static mode", async () => {
    const refused = await call(`/edge/assets/example.com/files/x`, {}, live());
    expect(refused.status).toBe(403);
    expect((await envelopeOf(refused)).reason).toBe("not_allowed");
    expect((await call(`/edge/assets/${host()}/files/${unique()}`, {}, live({ EDGE_ALLOW_HOSTS: "" }))).status).toBe(403);
    expect((await call(`/edge/assets/${host()}/files/${unique()}`)).status).toBe(404); // static (default)
  });

  it("retries 503s within the budget and then succeeds", async () => {
    const id = unique();
    const response = await call(`/edge/assets/${host()}/flaky/${id}`, {}, live());
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(`flaky ${id}`);
    expect((await upstreamHits())[`/flaky/${id}`]).toBe(3);
    expect(await metricsText()).toMatch(/^backoff_retries_total\{op="edge_live_fill"\} [1-9]\d*$/m);
  });

  it("gives up after 3 retries with 502 UPSTREAM_FAILED, and after timeouts with 504", async () => {
    const id = unique();
    const down = await call(`/edge/assets/${host()}/down/${id}`, {}, live());
    expect(down.status).toBe(502);
    expect(await envelopeOf(down)).toMatchObject({ code: "UPSTREAM_FAILED", reason: "upstream_error" });
    expect((await upstreamHits())[`/down/${id}`]).toBe(4);
    const stalled = await call(`/edge/assets/${host()}/stall/${unique()}`, {}, live({ EDGE_RETRY_COUNT: "1", EDGE_UPSTREAM_TIMEOUT_MS: "100" }));
    expect(stalled.status).toBe(504);
    expect((await envelopeOf(stalled)).reason).toBe("upstream_timeout");
  });

  it("passes an upstream 404 on without retrying", async () => {
    const id = unique();
    const response = await call(`/edge/assets/${host()}/nothing/${id}`, {}, live());
    expect(response.status).toBe(404);
    expect((await upstreamHits())[`/nothing/${id}`]).toBe(1);
  });

  it("refuses bytes that do not match the expected address (502, nothing stored), accepts matching ones", async () => {
    const id = unique();
    const expected = addressOf(encoder.encode(`content of ${id}`)).slice(3);
    const lie = await call(`/edge/assets/${host()}/lie/${id}?b3=${expected}`, {}, live());
    expect(lie.status).toBe(502);
    expect(await envelopeOf(lie)).toMatchObject({ code: "INTEGRITY_FAIL", reason: "upstream_mismatch" });
    expect((await call(`/edge/assets/${host()}/lie/${id}`, {}, live({ EDGE_MODE: "static" }))).status).toBe(404); // not stored
    const good = await call(`/edge/assets/${host()}/files/${id}?b3=${expected}`, {}, live());
    expect(good.status).toBe(200);
    expect((await call(`/edge/assets/${host()}/files/${id}?b3=XYZ`, {}, live())).status).toBe(400);
  });

  it("holds a ?b3= pin on cached assets too: other bytes are 502 INTEGRITY_FAIL, not the cached 200", async () => {
    const id = unique();
    const filled = await call(`/edge/assets/${host()}/files/${id}`, {}, live());
    expect(filled.status).toBe(200);
    const other = addressOf(encoder.encode(`something else ${id}`)).slice(3);
    const pinned = await call(`/edge/assets/${host()}/files/${id}?b3=${other}`, {}, live());
    expect(pinned.status).toBe(502);
    expect(await envelopeOf(pinned)).toMatchObject({ code: "INTEGRITY_FAIL", reason: "pin_mismatch" });
    const right = addressOf(encoder.encode(`content of ${id}`)).slice(3);
    expect(await (await call(`/edge/assets/${host()}/files/${id}?b3=${right}`, {}, live())).text()).toBe(`content of ${id}`);
    expect((await upstreamHits())[`/files/${id}`]).toBe(1); // the pin never refetches
  });

  it.each([
    ["%252e%252e", "%252e%252e/files/x"], // decodes to %2e%2e: a literal segment, not a step up
    ["%3F", "a%3Fb%3Dc"], // decodes to ?: not a query
    ["%23", "a%23frag"], // decodes to #: not a fragment
    ["spaces and UTF-8", "a%20b/%C3%A9"],
  ])("re-encodes each path segment upstream (%s): the upstream sees the same segments", async (_name, tail) => {
    const id = unique();
    const response = await call(`/edge/assets/${host()}/echo/${id}/${tail}`, {}, live());
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(`/echo/${id}/${tail}`);
  });

  it("keeps encoded look-alikes apart: each is its own upstream resource and its own cache entry", async () => {
    const id = unique();
    const query = await call(`/edge/assets/${host()}/echo/${id}/a%3Fb`, {}, live());
    const plain = await call(`/edge/assets/${host()}/echo/${id}/a`, {}, live());
    expect(await query.text()).toBe(`/echo/${id}/a%3Fb`);
    expect(await plain.text()).toBe(`/echo/${id}/a`);
    const hits = await upstreamHits();
    expect(hits[`/echo/${id}/a%3Fb`]).toBe(1);
    expect(hits[`/echo/${id}/a`]).toBe(1);
  });

  it("refuses a host segment not written exactly as allow-listed (one upstream URL, one cache key)", async () => {
    const upper = await call(`/edge/assets/LOCALHOST:${inject("upstreamPort")}/files/x`, {}, live({ EDGE_ALLOW_HOSTS: `localhost:${inject("upstreamPort")}` }));
    expect(upper.status).toBe(403);
  });

  it("counts attempts and successes per host", async () => {
    const text = await metricsText();
    const label = host().replace(".", "\\.");
    expect(text).toMatch(new RegExp(`^edge_live_fill_attempts_total\\{host="${label}"\\} [1-9]\\d*$`, "m"));
    expect(text).toMatch(new RegExp(`^edge_live_fill_success_total\\{host="${label}"\\} [1-9]\\d*$`, "m"));
    expect(text).toMatch(/^edge_cache_misses_total\{cause="live_fill"\} [1-9]\d*$/m);
  });

  describe("streaming fills: upstream → hash → store, readable by address only once verified", () => {
    /** What the stand-in upstream serves at /bytes/<id>/<n> (tests/global-setup.ts). */
    const fillBytes = (id: string, n: number) => {
      const out = new Uint8Array(n);
      const unit = encoder.encode(`${id}:`);
      for (let i = 0; i < n; i++) out[i] = unit[i % unit.length]! ^ ((i >> 10) & 0xff);
      return out;
    };
    const N = 300_000; // 19 groups of 16 KiB
    /** A held-in-memory fill may hold 64 KiB only: a larger one must stream to be stored at all. */
    const small = (extra: Record<string, string> = {}) => live({ DECOMPRESS_MAX_BYTES: "65536", EDGE_UPSTREAM_TIMEOUT_MS: "3000", ...extra });
    const stored = async (hex: string) => (await call(`/cas/blake3/${hex}`, { method: "HEAD" })).status === 200;

    it("streams a pinned fill of declared length into the store past the in-memory cap, then serves ranges of it", async () => {
      const id = unique();
      const bytes = fillBytes(id, N);
      const hex = addressOf(bytes).slice(3);
      const filled = await call(`/edge/assets/${host()}/bytes/${id}/${N}?b3=${hex}`, {}, small());
      expect(filled.status).toBe(200);
      expect(await bytesOf(filled)).toEqual(bytes);
      const range = await call(`/edge/assets/${host()}/bytes/${id}/${N}`, { headers: { Range: "bytes=200000-200099" } }, small());
      expect(range.status).toBe(206);
      expect(await bytesOf(range)).toEqual(bytes.subarray(200_000, 200_100));
      expect(await stored(hex)).toBe(true);
      // unpinned, the address is unknown until the end: held while hashed, so the cap applies
      const unpinned = await call(`/edge/assets/${host()}/bytes/${unique()}/${N}`, {}, small());
      expect(unpinned.status).toBe(502);
      expect((await envelopeOf(unpinned)).message).toMatch(/over 65536/);
      // so does a pinned one of unknown length (no Content-Length): refused once past the cap, nothing stored
      const chunkedId = unique();
      const chunkedHex = addressOf(fillBytes(chunkedId, N)).slice(3);
      const chunked = await call(`/edge/assets/${host()}/chunked/${chunkedId}/${N}?b3=${chunkedHex}`, {}, small());
      expect(chunked.status).toBe(502);
      expect((await envelopeOf(chunked)).message).toMatch(/exceeds 65536/);
      expect(await stored(chunkedHex)).toBe(false);
      const fits = fillBytes(chunkedId, 40_000);
      const held = await call(`/edge/assets/${host()}/chunked/${chunkedId}/40000?b3=${addressOf(fits).slice(3)}`, {}, small());
      expect(held.status).toBe(200);
      expect(await bytesOf(held)).toEqual(fits);
    });

    it("stores nothing when the streamed bytes hash elsewhere, even with only the last byte wrong", async () => {
      const id = unique();
      const right = fillBytes(id, N);
      const wrong = right.slice();
      wrong[N - 1]! ^= 0x01;
      const response = await call(`/edge/assets/${host()}/liebig/${id}/${N}?b3=${addressOf(right).slice(3)}`, {}, small());
      expect(response.status).toBe(502);
      expect(await envelopeOf(response)).toMatchObject({ code: "INTEGRITY_FAIL", reason: "upstream_mismatch" });
      expect(await stored(addressOf(right).slice(3))).toBe(false);
      expect(await stored(addressOf(wrong).slice(3))).toBe(false);
      expect((await call(`/edge/assets/${host()}/liebig/${id}/${N}`, {}, live({ EDGE_MODE: "static" }))).status).toBe(404);
      expect((await upstreamHits())[`/liebig/${id}/${N}`]).toBe(1); // a mismatch is an answer, not retried
    });

    it.each([
      ["pinned (streamed)", true],
      ["unpinned (held)", false],
    ])("stores nothing from an upstream body that stops short of its Content-Length: %s", async (_name, pinned) => {
      const id = unique();
      const hex = addressOf(fillBytes(id, 40_000)).slice(3);
      // half the body, then nothing until the connection is cut (after the 300 ms budget)
      const response = await call(`/edge/assets/${host()}/short/${id}/40000${pinned ? `?b3=${hex}` : ""}`, {}, small({ EDGE_RETRY_COUNT: "1", EDGE_UPSTREAM_TIMEOUT_MS: "300" }));
      expect(response.status).toBe(504);
      expect(await envelopeOf(response)).toMatchObject({ code: "UPSTREAM_FAILED", reason: "upstream_timeout" });
      expect((await upstreamHits())[`/short/${id}/40000`]).toBe(2); // transient: retried once
      expect(await stored(hex)).toBe(false);
      expect(await stored(addressOf(fillBytes(id, 40_000).subarray(0, 20_000)).slice(3))).toBe(false);
      expect((await call(`/edge/assets/${host()}/short/${id}/40000`, {}, live({ EDGE_MODE: "static" }))).status).toBe(404);
    });

    it("refuses a pinned fill whose declared length is over MAX_OBJECT_BYTES before reading it", async () => {
      const id = unique();
      const hex = addressOf(fillBytes(id, N)).slice(3);
      const response = await call(`/edge/assets/${host()}/bytes/${id}/${N}?b3=${hex}`, {}, small({ MAX_OBJECT_BYTES: "100000" }));
      expect(response.status).toBe(502);
      expect((await envelopeOf(response)).message).toMatch(/300000 bytes, over 100000/);
      expect((await upstreamHits())[`/bytes/${id}/${N}`]).toBe(1);
      expect(await stored(hex)).toBe(false);
    });

    it("keeps the object unreadable by its address while its bytes are still streaming in", async () => {
      const id = unique();
      const bytes = fillBytes(id, N);
      const hex = addressOf(bytes).slice(3);
      const filling = call(`/edge/assets/${host()}/drip/${id}/${N}?b3=${hex}`, {}, small());
      await new Promise((resolve) => setTimeout(resolve, 200)); // half is in, the rest 400 ms later
      expect(await stored(hex)).toBe(false);
      expect((await call(`/o/b3:${hex}`)).status).toBe(404);
      const done = await filling;
      expect(done.status).toBe(200);
      expect(await bytesOf(done)).toEqual(bytes);
      expect(await stored(hex)).toBe(true);
    });
  });
});
