import { describe, expect, it } from "vitest";
import edge from "../workers/edge/index";
import { addressOf, base64, bytesOf, call, callWorker, envelopeOf, putJson, randomBytes, metricsText } from "./helpers";

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
    expect(await metricsText()).toMatch(/^edge_cache_misses_total\{cause="pin_mismatch"\} [1-9]\d*$/m);
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

const ACTIVE_TYPES = [
  "text/html; charset=utf-8",
  "application/xhtml+xml",
  "image/svg+xml",
  "text/xml",
  "application/xml",
  "application/rss+xml",
  "text/javascript",
  "application/javascript",
  "application/pdf",
];
const PASSIVE_TYPES = ["text/plain; charset=utf-8", "image/png", "application/json", "text/css", "application/octet-stream"];

/** Store `<svg onload=…>`-style bytes under `type` through the JSON envelope of POST /put; its address. */
async function storeAs(type: string): Promise<string> {
  const bytes = encoder.encode(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.domain)"/><!-- ${type} ${unique()} -->`);
  const response = await putJson({ payload: base64(bytes), meta: { type } });
  expect([200, 201]).toContain(response.status);
  return ((await response.json()) as { address: string }).address;
}

function expectAttachment(response: Response) {
  expect(response.headers.get("content-disposition")).toBe("attachment");
  expect(response.headers.get("content-security-policy")).toBe("sandbox");
  expect(response.headers.get("x-content-type-options")).toBe("nosniff");
}

function expectPassive(response: Response) {
  expect(response.headers.get("content-disposition")).toBeNull();
  expect(response.headers.get("content-security-policy")).toBeNull();
  expect(response.headers.get("x-content-type-options")).toBe("nosniff");
}

describe("stored active content on /o/:addr and /cas/blake3/:hex", () => {
  it.each(ACTIVE_TYPES)("serves %s as an attachment under CSP sandbox (GET, HEAD, Range, 304)", async (type) => {
    const address = await storeAs(type);
    for (const path of [`/o/${address}`, `/cas/blake3/${address.slice(3)}`]) {
      const get = await call(path);
      expect(get.status).toBe(200);
      expect(get.headers.get("content-type")).toBe(type);
      expectAttachment(get);
      expectAttachment(await call(path, { method: "HEAD" }));
      const range = await call(path, { headers: { Range: "bytes=0-3" } });
      expect(range.status).toBe(206);
      expectAttachment(range);
      const notModified = await call(path, { headers: { "If-None-Match": `"${address}"` } });
      expect(notModified.status).toBe(304);
      expectAttachment(notModified);
    }
  });

  it.each(PASSIVE_TYPES)("serves %s inline, with nosniff only", async (type) => {
    const address = await storeAs(type);
    for (const path of [`/o/${address}`, `/cas/blake3/${address.slice(3)}`]) expectPassive(await call(path));
  });

  it.each(["Text/HTML;charset=utf-8", "IMAGE/SVG+XML", "application/atom+xml; charset=utf-8"])("recognises %s as active whatever its case and parameters", async (type) => {
    expectAttachment(await call(`/o/${await storeAs(type)}`));
  });
});

describe("active assets on /edge/assets/* (EDGE_ACTIVE_CONTENT)", () => {
  it.each(ACTIVE_TYPES)("serves %s inline under CSP sandbox by default, as a download with attachment, as is with allow", async (type) => {
    const path = `active-${unique()}/page`;
    expect((await publish(path, `<script>alert(1)</script> ${type}`, { "Content-Type": type })).status).toBe(201);
    const sandboxed = await call(`/edge/assets/${path}`);
    expect(sandboxed.status).toBe(200);
    expect(sandboxed.headers.get("content-type")).toBe(type);
    expect(sandboxed.headers.get("content-security-policy")).toBe("sandbox");
    expect(sandboxed.headers.get("content-disposition")).toBeNull();
    expect(sandboxed.headers.get("x-content-type-options")).toBe("nosniff");
    const sandboxedHead = await call(`/edge/assets/${path}`, { method: "HEAD" }, { EDGE_ACTIVE_CONTENT: "sandbox" });
    expect(sandboxedHead.headers.get("content-security-policy")).toBe("sandbox");

    for (const init of [{}, { method: "HEAD" }, { headers: { Range: "bytes=0-7" } }] as RequestInit[]) {
      expectAttachment(await call(`/edge/assets/${path}`, init, { EDGE_ACTIVE_CONTENT: "attachment" }));
    }
    expectPassive(await call(`/edge/assets/${path}`, {}, { EDGE_ACTIVE_CONTENT: "allow" }));
  });

  it("leaves passive assets alone in every mode (nosniff only), and types by extension count too", async () => {
    const text = `passive-${unique()}.txt`;
    await publish(text, encoder.encode("just text"));
    for (const mode of ["sandbox", "attachment", "allow"]) expectPassive(await call(`/edge/assets/${text}`, {}, { EDGE_ACTIVE_CONTENT: mode }));
    const svg = `icon-${unique()}.svg`;
    await publish(svg, encoder.encode('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'));
    const served = await call(`/edge/assets/${svg}`);
    expect(served.headers.get("content-type")).toBe("image/svg+xml");
    expect(served.headers.get("content-security-policy")).toBe("sandbox");
  });

  it("refuses an unknown EDGE_ACTIVE_CONTENT as invalid config", async () => {
    const response = await call(`/edge/assets/x-${unique()}.html`, {}, { EDGE_ACTIVE_CONTENT: "inline" });
    expect(response.status).toBe(503);
    expect((await envelopeOf(response)).message).toContain("EDGE_ACTIVE_CONTENT");
  });
});

describe("X-Content-Type-Options: nosniff on every response", () => {
  it.each([
    ["GET /healthz", "/healthz", {}, {}],
    ["GET /readyz", "/readyz", {}, {}],
    ["GET /metrics", "/metrics", {}, {}],
    ["GET /version", "/version", {}, {}],
    ["an unknown route (404)", "/nope", {}, {}],
    ["a wrong method (405)", `/o/b3:${"a".repeat(64)}`, { method: "DELETE" }, {}],
    ["a malformed address (400)", "/o/b3:XYZ", {}, {}],
    ["an unknown object (404)", `/o/b3:${"c".repeat(64)}`, {}, {}],
    ["oversized headers (431)", "/healthz", { headers: { "X-Big": "x".repeat(40_000) } }, {}],
    ["invalid config (503)", "/o/b3:XYZ", {}, { EDGE_MAX_RANGES: "0" }],
    ["a store (201/200)", "/put", { method: "POST", body: "nosniff", headers: { "Content-Type": "application/octet-stream" } }, {}],
    ["a tile archive that is not configured (404)", "/edge/tiles/none/0/0/0.mvt", {}, {}],
  ] as [string, string, RequestInit, Record<string, string>][])("%s", async (_name, path, init, overrides) => {
    const response = await call(path, init, overrides);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("on the standalone edge worker too", async () => {
    expect((await callWorker(edge, "/edge/assets/none", {}, { AMNESIA: "false" })).headers.get("x-content-type-options")).toBe("nosniff");
    expect((await callWorker(edge, "/healthz")).headers.get("x-content-type-options")).toBe("nosniff");
  });
});
