/**
 * Content-addressed reads through the Cache API (`CACHE_OBJECTS`), as a client sees them: a
 * repeat is served from the cache with no store call, proved by deleting the object from R2
 * underneath the service (through the binding) and reading it still, while the same deletion
 * with the cache off is a 404. Ranges and conditionals are answered from a cached entry; bytes
 * that fail verification never enter it; per-request headers are never replayed from it.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { objectCacheKey } from "../shared/http/object-cache";
import { INLINE_READ_BYTES } from "../shared/store/verified-read";
import { r2Key, r2OutboardKey } from "../shared/store/r2-object-store";
import { BASE, R2, addressOf, amnesiaStub, bytesOf, call, envelopeOf, metricsText, putRaw, randomBytes } from "./helpers";

type Timing = Map<string, { dur?: number; desc?: string }>;

/** `Server-Timing: cache;desc="hit";dur=0.2, total;dur=3` → name → { dur, desc }. */
function timingOf(response: Response): Timing {
  const out: Timing = new Map();
  for (const entry of (response.headers.get("server-timing") ?? "").split(",")) {
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

const cacheResult = (response: Response) => timingOf(response).get("cache")?.desc;

/** Store `bytes` in R2 (through the service) and return its address. */
async function storedInR2(bytes: Uint8Array, contentType = "application/octet-stream"): Promise<string> {
  const address = addressOf(bytes);
  const response = await call(`/o/${address}`, { method: "PUT", body: bytes, headers: { "Content-Type": contentType, "Content-Length": String(bytes.length) } }, R2);
  expect(response.status).toBe(201);
  await response.arrayBuffer();
  return address;
}

/** Remove the object from R2 directly through the binding: the service can no longer read it from the store. */
async function deleteUnderneath(address: string): Promise<void> {
  const hex = address.slice(3);
  await env.OBJECTS.delete([r2Key(hex), r2OutboardKey(hex)]);
  expect(await env.OBJECTS.head(r2Key(hex))).toBeNull();
}

/** The entry the object cache holds for `address`, read straight from the Cache API. */
async function cacheEntry(address: string): Promise<Response | undefined> {
  return (await caches.open("ron:objects")).match(objectCacheKey(new Request(BASE), address.slice(3)));
}

async function cacheCount(outcome: string): Promise<number> {
  const match = new RegExp(`^object_cache_total\\{outcome="${outcome}"\\} (\\d+)$`, "m").exec(await metricsText());
  return Number(match?.[1] ?? 0);
}

describe("object cache (CACHE_OBJECTS)", () => {
  it("a first GET misses and keeps the object; the repeat is a hit with no store call, even with the object deleted from R2", async () => {
    const bytes = randomBytes(5000);
    const address = await storedInR2(bytes);
    const [hitsBefore, storesBefore] = [await cacheCount("hit"), await cacheCount("store")];

    // rate limits of their own with a 10 s lease: the miss takes the leases (a `do` call), the hit finds them in hand
    const knobs = { ...R2, RATE_LIMIT_RPS: "999999", RATE_LIMIT_SERVICE_RPS: "9999999", RATE_LIMIT_LEASE_MS: "10000" };
    const first = await call(`/o/${address}`, {}, knobs);
    expect(first.status).toBe(200);
    expect(cacheResult(first)).toBe("miss");
    expect(timingOf(first).has("store")).toBe(true);
    expect(timingOf(first).has("hash")).toBe(true);
    expect(await bytesOf(first)).toEqual(bytes);
    expect(await cacheCount("store")).toBe(storesBefore + 1);

    await deleteUnderneath(address);
    const repeat = await call(`/o/${address}`, {}, knobs);
    expect(repeat.status).toBe(200);
    expect(cacheResult(repeat)).toBe("hit");
    const timing = timingOf(repeat);
    expect(timing.get("cache")!.dur).toBeGreaterThanOrEqual(0);
    // no store (R2) call, no Durable Object call, no hashing: the bytes were verified when they entered the cache
    expect([...timing.keys()]).toEqual(["cache", "total"]);
    expect(repeat.headers.get("etag")).toBe(`"${address}"`);
    expect(repeat.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(repeat.headers.get("content-length")).toBe("5000");
    expect(await bytesOf(repeat)).toEqual(bytes);
    expect(await cacheCount("hit")).toBe(hitsBefore + 1);

    // the same deletion with the cache off: the store is asked, and the object is gone
    const uncached = await call(`/o/${address}`, {}, { ...R2, CACHE_OBJECTS: "false" });
    expect(uncached.status).toBe(404);
    expect(cacheResult(uncached)).toBeUndefined();
    await uncached.arrayBuffer();
  });

  it("answers Range, If-None-Match, If-Match, If-Range and HEAD from a cached entry (RFC 9110), with the store gone", async () => {
    const bytes = randomBytes(40_000); // several 16 KiB groups
    const address = await storedInR2(bytes);
    await (await call(`/o/${address}`, {}, R2)).arrayBuffer();
    await deleteUnderneath(address);
    const etag = `"${address}"`;
    const get = (headers: Record<string, string>, method = "GET") => call(`/o/${address}`, { method, headers }, R2);

    const range = await get({ Range: "bytes=20000-20099" });
    expect(range.status).toBe(206);
    expect(cacheResult(range)).toBe("hit");
    expect(range.headers.get("content-range")).toBe("bytes 20000-20099/40000");
    expect(range.headers.get("content-length")).toBe("100");
    expect(await bytesOf(range)).toEqual(bytes.subarray(20000, 20100));

    const suffix = await get({ Range: "bytes=-10" });
    expect(suffix.status).toBe(206);
    expect(await bytesOf(suffix)).toEqual(bytes.subarray(39990));

    const unsatisfiable = await get({ Range: "bytes=50000-" });
    expect(unsatisfiable.status).toBe(416);
    expect(unsatisfiable.headers.get("content-range")).toBe("bytes */40000");
    await unsatisfiable.arrayBuffer();

    const notModified = await get({ "If-None-Match": etag });
    expect(notModified.status).toBe(304);
    expect(cacheResult(notModified)).toBe("hit");
    expect(notModified.headers.get("etag")).toBe(etag);
    expect(await notModified.text()).toBe("");

    const weakMatch = await get({ "If-None-Match": `W/${etag}` });
    expect(weakMatch.status).toBe(304);
    await weakMatch.arrayBuffer();

    const failed = await get({ "If-Match": `"b3:${"0".repeat(64)}"` });
    expect(failed.status).toBe(412);
    expect((await envelopeOf(failed)).code).toBe("PRECONDITION_FAILED");

    // an If-Range that does not match: the whole representation
    const stale = await get({ Range: "bytes=0-9", "If-Range": `"b3:${"1".repeat(64)}"` });
    expect(stale.status).toBe(200);
    expect(await bytesOf(stale)).toEqual(bytes);

    const head = await get({}, "HEAD");
    expect(head.status).toBe(200);
    expect(cacheResult(head)).toBe("hit");
    expect(head.headers.get("content-length")).toBe("40000");
    expect(head.headers.get("etag")).toBe(etag);
    expect(await head.text()).toBe("");
  });

  it("a ranged miss is read group by group and keeps nothing; the first full GET keeps the object", async () => {
    const bytes = randomBytes(3000);
    const address = await storedInR2(bytes);
    const range = await call(`/o/${address}`, { headers: { Range: "bytes=10-19" } }, R2);
    expect(range.status).toBe(206);
    expect(cacheResult(range)).toBe("miss");
    expect(await bytesOf(range)).toEqual(bytes.subarray(10, 20));
    expect(await cacheEntry(address)).toBeUndefined();
    const full = await call(`/o/${address}`, {}, R2);
    expect(cacheResult(full)).toBe("miss");
    expect(await bytesOf(full)).toEqual(bytes);
    await deleteUnderneath(address);
    const warm = await call(`/o/${address}`, { headers: { Range: "bytes=10-19" } }, R2);
    expect(warm.status).toBe(206);
    expect(cacheResult(warm)).toBe("hit");
    expect(await bytesOf(warm)).toEqual(bytes.subarray(10, 20));
  });

  it("the edge's /cas/blake3/:hex shares the entry, with its own serving policy (active types as attachments)", async () => {
    const bytes = new TextEncoder().encode(`<html><body>cached ${crypto.randomUUID()}</body></html>`);
    const address = await storedInR2(bytes, "text/html");
    const first = await call(`/cas/blake3/${address.slice(3)}`, {}, R2);
    expect(first.status).toBe(200);
    expect(cacheResult(first)).toBe("miss");
    await first.arrayBuffer();
    await deleteUnderneath(address);
    for (const path of [`/cas/blake3/${address.slice(3)}`, `/o/${address}`]) {
      const hit = await call(path, {}, R2);
      expect(hit.status).toBe(200);
      expect(cacheResult(hit)).toBe("hit");
      expect(hit.headers.get("content-type")).toBe("text/html");
      expect(hit.headers.get("content-disposition")).toBe("attachment");
      expect(hit.headers.get("content-security-policy")).toContain("sandbox");
      expect(await bytesOf(hit)).toEqual(bytes);
    }
  });

  it("bytes that fail verification never enter the cache: every read is 502, none is kept", async () => {
    const bytes = randomBytes(2048);
    const address = await storedInR2(bytes);
    const tampered = bytes.slice();
    tampered[100]! ^= 0xff;
    await env.OBJECTS.put(r2Key(address.slice(3)), tampered); // corrupt underneath the service, before any read
    const storesBefore = await cacheCount("store");
    for (let i = 0; i < 2; i++) {
      const response = await call(`/o/${address}`, {}, R2);
      expect(response.status).toBe(502);
      expect(cacheResult(response)).toBe("miss");
      expect((await envelopeOf(response)).code).toBe("INTEGRITY_FAIL");
    }
    expect(await cacheEntry(address)).toBeUndefined();
    expect(await cacheCount("store")).toBe(storesBefore);
  });

  it("errors are never cached: a 404 stays a 404 once the object is stored, and the stored object is then served", async () => {
    const bytes = randomBytes(1000);
    const address = addressOf(bytes);
    const missing = await call(`/o/${address}`, {}, R2);
    expect(missing.status).toBe(404);
    expect(cacheResult(missing)).toBe("miss");
    await missing.arrayBuffer();
    expect(await cacheEntry(address)).toBeUndefined();
    await storedInR2(bytes);
    const found = await call(`/o/${address}`, {}, R2);
    expect(found.status).toBe(200);
    expect(await bytesOf(found)).toEqual(bytes);
  });

  it("per-request headers are made for each answer: two hits carry different X-Corr-IDs, the entry carries none", async () => {
    const bytes = randomBytes(1500);
    const address = await storedInR2(bytes);
    await (await call(`/o/${address}`, {}, R2)).arrayBuffer();
    const one = await call(`/o/${address}`, {}, R2);
    const two = await call(`/o/${address}`, { headers: { "X-Corr-ID": "caller-chosen-id" } }, R2);
    expect([cacheResult(one), cacheResult(two)]).toEqual(["hit", "hit"]);
    expect(one.headers.get("x-corr-id")).toBeTruthy();
    expect(two.headers.get("x-corr-id")).toBe("caller-chosen-id");
    expect(one.headers.get("x-corr-id")).not.toBe(two.headers.get("x-corr-id"));
    await Promise.all([one.arrayBuffer(), two.arrayBuffer()]);
    const entry = (await cacheEntry(address))!;
    expect(entry.status).toBe(200);
    for (const name of ["x-corr-id", "server-timing", "content-security-policy", "content-disposition"]) expect(entry.headers.get(name)).toBeNull();
    expect(new Uint8Array(await entry.arrayBuffer())).toEqual(bytes);
  });

  it("objects larger than INLINE_READ_BYTES are streamed and never kept (skip)", async () => {
    const bytes = randomBytes(INLINE_READ_BYTES + 4096);
    const address = addressOf(bytes);
    await storedInR2(bytes);
    const skipsBefore = await cacheCount("skip");
    for (let i = 0; i < 2; i++) {
      const response = await call(`/o/${address}`, {}, R2);
      expect(response.status).toBe(200);
      expect(cacheResult(response)).toBe("miss");
      expect(timingOf(response).has("store")).toBe(true);
      expect((await bytesOf(response)).length).toBe(bytes.length);
    }
    expect(await cacheCount("skip")).toBe(skipsBefore + 2);
    expect(await cacheEntry(address)).toBeUndefined();
  });

  it("is off in amnesia mode by default (the Cache API is not RAM-only); CACHE_OBJECTS=true with AMNESIA is refused", async () => {
    const bytes = randomBytes(1200);
    const put = await putRaw(bytes);
    expect(put.status).toBeLessThan(300);
    const address = ((await put.json()) as { address: string }).address;
    const first = await call(`/o/${address}`);
    expect(first.status).toBe(200);
    expect(cacheResult(first)).toBeUndefined();
    expect(timingOf(first).has("store")).toBe(true);
    await first.arrayBuffer();
    expect(await cacheEntry(address)).toBeUndefined();
    // gone from RAM is gone: nothing else holds the bytes
    await runInDurableObject(amnesiaStub(address.slice(3)), (instance) => {
      (instance as unknown as { objects: Map<string, unknown> }).objects.delete(address.slice(3));
    });
    const after = await call(`/o/${address}`);
    expect(after.status).toBe(404);
    await after.arrayBuffer();

    const refused = await call(`/o/${address}`, {}, { CACHE_OBJECTS: "true" });
    expect(refused.status).toBe(503);
    expect((await envelopeOf(refused)).message).toContain("CACHE_OBJECTS");
  });
});
