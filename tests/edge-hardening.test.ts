import { describe, expect, it } from "vitest";
import { addressOf, bytesOf, call, envelopeOf, randomBytes } from "./helpers";

const unique = () => crypto.randomUUID().slice(0, 8);
const encoder = new TextEncoder();
const publish = (path: string, body: Uint8Array | string, headers: Record<string, string> = {}) => call(`/edge/assets/${path}`, { method: "PUT", body, headers });
const hexOf = (bytes: Uint8Array) => addressOf(bytes).slice(3);

describe("edge ?b3= pins hold on every request", () => {
  it("answers 502 INTEGRITY_FAIL when a published asset's bytes are not the pinned ones, whatever the request", async () => {
    const path = `pin-${unique()}/app.js`;
    const v1 = encoder.encode("console.log('v1')");
    const v2 = encoder.encode("console.log('v2')");
    expect((await publish(path, v1)).status).toBe(201);
    expect((await publish(path, v2)).status).toBe(201); // the path now points at v2
    const stale = `/edge/assets/${path}?b3=${hexOf(v1)}`;
    for (const init of [{}, { headers: { Range: "bytes=0-3" } }, { headers: { "If-None-Match": `"${addressOf(v2)}"` } }] as RequestInit[]) {
      const response = await call(stale, init);
      expect(response.status).toBe(502);
      expect(await envelopeOf(response)).toMatchObject({ code: "INTEGRITY_FAIL", reason: "pin_mismatch" });
    }
    const head = await call(stale, { method: "HEAD" });
    expect(head.status).toBe(502);
    expect((await head.arrayBuffer()).byteLength).toBe(0);

    const pinned = await call(`/edge/assets/${path}?b3=${hexOf(v2)}`);
    expect(pinned.status).toBe(200);
    expect(await bytesOf(pinned)).toEqual(v2);
    expect(await (await call("/metrics")).text()).toMatch(/^edge_cache_misses_total\{cause="pin_mismatch"\} [1-9]\d*$/m);
  });
});

describe("edge multi-range (EDGE_MULTI_RANGE=true)", () => {
  const size = 1000;
  const body = randomBytes(size);
  const type = "application/x-protobuf";
  const path = `mr-${unique()}/tile.pbf`;
  const multi = { EDGE_MULTI_RANGE: "true" };
  const get = (range: string, overrides: Record<string, string> = {}, method = "GET", at = path) => call(`/edge/assets/${at}`, { method, headers: { Range: range } }, { ...multi, ...overrides });

  /** The multipart/byteranges body RFC 9110 §14.6 describes for these parts, in this order. */
  function expectedMultipart(boundary: string, parts: [number, number][], object: Uint8Array): Uint8Array {
    const chunks: Uint8Array[] = [];
    for (const [start, end] of parts) {
      chunks.push(encoder.encode(`\r\n--${boundary}\r\nContent-Type: ${type}\r\nContent-Range: bytes ${start}-${end}/${object.length}\r\n\r\n`));
      chunks.push(object.subarray(start, end + 1));
    }
    chunks.push(encoder.encode(`\r\n--${boundary}--\r\n`));
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) out.set(c, (at += c.length) - c.length);
    return out;
  }

  async function expectParts(response: Response, parts: [number, number][], object = body) {
    expect(response.status).toBe(206);
    const boundary = /^multipart\/byteranges; boundary=(.+)$/.exec(response.headers.get("content-type") ?? "")?.[1];
    expect(boundary).toBeTruthy();
    const bytes = await bytesOf(response);
    expect(bytes).toEqual(expectedMultipart(boundary!, parts, object));
    expect(response.headers.get("content-length")).toBe(String(bytes.length));
  }

  it("coalesces overlapping and adjacent ranges, keeping the order of their first spec", async () => {
    expect((await publish(path, body, { "Content-Type": type })).status).toBe(201);
    await expectParts(await get("bytes=0-9,5-19,20-29,100-109"), [[0, 29], [100, 109]]);
    await expectParts(await get("bytes=100-109, 0-9, 5-19, 95-99"), [[95, 109], [0, 19]]);
    await expectParts(await get("bytes=990-,-5,0-0,2000-3000"), [[990, 999], [0, 0]]); // suffixes merge, unsatisfiable dropped
  });

  it("never answers more bytes than the object: repeated whole ranges are one 206, near-whole sets are the full 200", async () => {
    const repeated = await get("bytes=0-,0-,0-");
    expect(repeated.status).toBe(206);
    expect(repeated.headers.get("content-range")).toBe(`bytes 0-${size - 1}/${size}`);
    expect(await bytesOf(repeated)).toEqual(body);
    const nearlyAll = await get("bytes=0-499,501-999");
    expect(nearlyAll.status).toBe(200);
    expect(await bytesOf(nearlyAll)).toEqual(body);
    for (const range of ["bytes=0-,0-,0-,0-,0-,0-,0-,0-", "bytes=-1000,0-999,1-998", "bytes=0-10,0-20,0-30,0-40", "bytes=0-0,2-2,4-4,6-6,8-8,10-10"]) {
      expect((await bytesOf(await get(range))).length).toBeLessThanOrEqual(size);
    }
  });

  it("ignores a Range header with more than EDGE_MAX_RANGES specs (full 200), and serves up to the cap", async () => {
    const big = randomBytes(20_000);
    const bigPath = `mr-${unique()}/big.pbf`;
    expect((await publish(bigPath, big, { "Content-Type": type })).status).toBe(201);
    const parts = (n: number) => Array.from({ length: n }, (_, i) => [i * 1000, i * 1000 + 9] as [number, number]);
    const specs = (n: number) => `bytes=${parts(n).map(([a, b]) => `${a}-${b}`).join(",")}`;
    await expectParts(await get(specs(16), {}, "GET", bigPath), parts(16), big);
    const over = await get(specs(17), {}, "GET", bigPath);
    expect(over.status).toBe(200);
    expect(await bytesOf(over)).toEqual(big);
    await expectParts(await get(specs(4), { EDGE_MAX_RANGES: "4" }, "GET", bigPath), parts(4), big);
    expect((await get(specs(5), { EDGE_MAX_RANGES: "4" }, "GET", bigPath)).status).toBe(200);
    expect((await call("/edge/assets/x", {}, { EDGE_MAX_RANGES: "1" })).status).toBe(503); // below 2 is not a valid cap
  });

  it("streams the multipart body part by part, not as one joined buffer", async () => {
    const response = await get("bytes=0-99,200-299,400-499");
    expect(response.status).toBe(206);
    const reader = response.body!.getReader();
    const chunks: Uint8Array[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
    expect(chunks.length).toBeGreaterThanOrEqual(7); // 3 × (part header, part bytes) + closing delimiter
    expect(chunks.reduce((n, c) => n + c.length, 0)).toBe(Number(response.headers.get("content-length")));
    const head = await get("bytes=0-99,200-299", {}, "HEAD");
    expect(head.status).toBe(206);
    expect(Number(head.headers.get("content-length"))).toBeGreaterThan(200);
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });
});
