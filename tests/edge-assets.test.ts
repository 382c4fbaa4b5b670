import { describe, expect, it } from "vitest";
import { R2, addressOf, amnesiaStub, amnesiaUsedBytes, bytesOf, call, envelopeOf, gzip, randomBytes, metricsText } from "./helpers";
import { runInDurableObject } from "cloudflare:test";

const publish = (path: string, body: Uint8Array | string, headers: Record<string, string> = {}, overrides: Record<string, string> = {}) =>
  call(`/edge/assets/${path}`, { method: "PUT", body, headers }, overrides);
const unique = () => crypto.randomUUID().slice(0, 8);

for (const [mode, overrides] of [["amnesia", {}], ["r2", R2]] as const) {
  describe(`edge assets (${mode})`, () => {
    it("publishes an asset and serves it with type by extension, ETag of the whole object and caching", async () => {
      const path = `site-${unique()}/index.html`;
      const html = new TextEncoder().encode("<!doctype html><h1>ron</h1>");
      const put = await publish(path, html, {}, overrides);
      expect(put.status).toBe(201);
      expect(await put.json<any>()).toMatchObject({ path, address: addressOf(html), size: html.length, type: "text/html; charset=utf-8" });
      const get = await call(`/edge/assets/${path}`, {}, overrides);
      expect(get.status).toBe(200);
      expect(get.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(get.headers.get("etag")).toBe(`"${addressOf(html)}"`);
      expect(get.headers.get("cache-control")).toBe("public, max-age=300");
      expect(get.headers.get("accept-ranges")).toBe("bytes");
      expect(await bytesOf(get)).toEqual(html);
      expect((await publish(path, html, {}, overrides)).status).toBe(200); // same bytes: unchanged
      const head = await call(`/edge/assets/${path}`, { method: "HEAD" }, overrides);
      expect(head.headers.get("content-length")).toBe(String(html.length));
      expect((await head.arrayBuffer()).byteLength).toBe(0);
    });

    it("moves the pointer when a new version is published; the old bytes stay addressable", async () => {
      const path = `v-${unique()}/app.js`;
      const v1 = new TextEncoder().encode("console.log(1)");
      const v2 = new TextEncoder().encode("console.log(2)");
      await publish(path, v1, {}, overrides);
      await publish(path, await gzip(v2), { "Content-Encoding": "gzip" }, overrides);
      expect(await (await call(`/edge/assets/${path}`, {}, overrides)).text()).toBe("console.log(2)");
      expect(await (await call(`/cas/blake3/${addressOf(v1).slice(3)}`, {}, overrides)).text()).toBe("console.log(1)");
    });

    it("points a path at an object already stored with ?b3= and no body (large assets: a multipart upload first)", async () => {
      const bytes = randomBytes(3000);
      const address = addressOf(bytes);
      const path = `big-${unique()}/data.bin`;
      const point = (headers: Record<string, string> = {}, hex = address.slice(3)) => call(`/edge/assets/${path}?b3=${hex}`, { method: "PUT", headers }, overrides);
      const absent = await point();
      expect(absent.status).toBe(404);
      expect((await envelopeOf(absent)).message).toContain("POST /uploads");
      const stored = await call(`/o/${address}`, { method: "PUT", body: bytes, headers: { "Content-Length": String(bytes.length) } }, overrides);
      expect(stored.status).toBe(201);
      const put = await point({ "Content-Type": "application/x-protobuf" });
      expect(put.status).toBe(201);
      expect(await put.json<any>()).toMatchObject({ path, address, size: 3000, type: "application/x-protobuf" });
      const get = await call(`/edge/assets/${path}`, { headers: { Range: "bytes=100-199" } }, overrides);
      expect(get.status).toBe(206);
      expect(await bytesOf(get)).toEqual(bytes.subarray(100, 200));
      expect((await point({ "Content-Type": "application/x-protobuf" })).status).toBe(200); // unchanged
      const withBody = await call(`/edge/assets/${path}?b3=${address.slice(3)}`, { method: "PUT", body: "x", headers: { "Content-Length": "1" } }, overrides);
      expect(withBody.status).toBe(400);
      expect((await envelopeOf(withBody)).reason).toBe("body_with_b3");
      const badHex = await point({}, "XYZ");
      expect(badHex.status).toBe(400);
      expect((await envelopeOf(badHex)).reason).toBe("bad_address");
    });
  });
}

describe("edge Range and conditionals", () => {
  const body = randomBytes(1000);
  const path = `r-${unique()}/tile.pbf`;
  const etag = `"${addressOf(body)}"`;
  const get = (headers: Record<string, string>, overrides: Record<string, string> = {}) => call(`/edge/assets/${path}`, { headers }, overrides);

  it("serves single ranges as 206 and refuses unsatisfiable ones with 416 bytes */len", async () => {
    expect((await publish(path, body)).status).toBe(201);
    for (const [range, start, end] of [["bytes=0-99", 0, 99], ["bytes=900-", 900, 999], ["bytes=-10", 990, 999]] as const) {
      const response = await get({ Range: range });
      expect(response.status).toBe(206);
      expect(response.headers.get("content-range")).toBe(`bytes ${start}-${end}/1000`);
      expect(response.headers.get("etag")).toBe(etag);
      expect(await bytesOf(response)).toEqual(body.subarray(start, end + 1));
    }
    const unsatisfiable = await get({ Range: "bytes=1000-" });
    expect(unsatisfiable.status).toBe(416);
    expect(unsatisfiable.headers.get("content-range")).toBe("bytes */1000");
    expect((await get({ Range: "bytes=5-1" })).status).toBe(200);
  });

  it("serves several ranges in full by default, and as multipart/byteranges when EDGE_MULTI_RANGE is on", async () => {
    const plain = await get({ Range: "bytes=0-9,20-29" });
    expect(plain.status).toBe(200);
    expect((await bytesOf(plain)).length).toBe(1000);
    const multi = await get({ Range: "bytes=0-9,20-29" }, { EDGE_MULTI_RANGE: "true" });
    expect(multi.status).toBe(206);
    const type = multi.headers.get("content-type")!;
    expect(type).toMatch(/^multipart\/byteranges; boundary=/);
    const text = new TextDecoder("latin1").decode(await bytesOf(multi));
    expect(text).toContain("Content-Range: bytes 0-9/1000");
    expect(text).toContain("Content-Range: bytes 20-29/1000");
    expect(text.trimEnd().endsWith(`--${type.split("boundary=")[1]}--`)).toBe(true);
  });

  it("answers If-None-Match (lists, W/, *) with 304 and If-Match mismatches with 412", async () => {
    for (const header of [etag, `W/${etag}`, `"b3:${"0".repeat(64)}", ${etag}`, "*"]) {
      const response = await get({ "If-None-Match": header });
      expect(response.status).toBe(304);
      expect(response.headers.get("etag")).toBe(etag);
    }
    expect((await get({ "If-Match": etag })).status).toBe(200);
    expect((await get({ "If-Match": "*" })).status).toBe(200);
    const failed = await get({ "If-Match": `"b3:${"1".repeat(64)}"` });
    expect(failed.status).toBe(412);
    expect((await envelopeOf(failed)).code).toBe("PRECONDITION_FAILED");
    expect((await get({ "If-Match": `W/${etag}` })).status).toBe(412); // If-Match compares strongly
  });

  it("honours If-Range: the range when the tag matches, the whole object otherwise", async () => {
    expect((await get({ Range: "bytes=0-9", "If-Range": etag })).status).toBe(206);
    expect((await get({ Range: "bytes=0-9", "If-Range": `"b3:${"2".repeat(64)}"` })).status).toBe(200);
    expect((await get({ Range: "bytes=0-9", "If-Range": "Wed, 21 Oct 2015 07:28:00 GMT" })).status).toBe(200);
  });

  it("counts range answers and hits", async () => {
    const text = await metricsText();
    expect(text).toMatch(/^edge_range_requests_total\{result="partial"\} [1-9]\d*$/m);
    expect(text).toMatch(/^edge_range_requests_total\{result="unsatisfiable"\} [1-9]\d*$/m);
    expect(text).toMatch(/^edge_range_requests_total\{result="multipart"\} [1-9]\d*$/m);
    expect(text).toMatch(/^edge_cache_hits_total\{kind="asset"\} [1-9]\d*$/m);
    expect(text).toMatch(/^edge_cas_writes_total\{status="created"\} [1-9]\d*$/m);
  });
});

describe("edge refuses bad paths and bad input", () => {
  it.each(["%2e%2e/secret", "a/%2Fetc", "a%5Cb", "a//b", "x%00y", "%E0%A4%A"])("answers 400 (or 404 after URL normalisation) for %s", async (path) => {
    const response = await call(`/edge/assets/${path}`);
    expect([400, 404]).toContain(response.status);
    if (response.status === 400) expect((await envelopeOf(response)).reason).toBe("bad_path");
    const put = await call(`/edge/assets/${path}`, { method: "PUT", body: "x" });
    expect([400, 404]).toContain(put.status);
  });

  it("resolves dot segments inside the URL, so they never leave /edge/assets/", async () => {
    const name = `dot-${unique()}.txt`;
    expect((await publish(`x/../${name}`, "resolved")).status).toBe(201); // stored as <name>
    expect(await (await call(`/edge/assets/${name}`)).text()).toBe("resolved");
    expect((await call("/edge/assets/../../put", { method: "PUT", body: "x" })).status).toBe(405); // now /put
    expect((await call("/edge/assets/../secret", { method: "PUT", body: "x" })).status).toBe(404); // now /edge/secret
  });

  it("rejects encoded slashes and dot segments precisely with bad_path", async () => {
    for (const path of ["a/%2Fetc", "a%5Cb", "a//b", "x%00y"]) {
      const response = await call(`/edge/assets/${path}`);
      expect(response.status).toBe(400);
      expect((await envelopeOf(response)).reason).toBe("bad_path");
    }
  });

  it("answers 404 for unknown assets and CAS objects, 400 for malformed hex", async () => {
    expect((await call(`/edge/assets/nope-${unique()}.css`)).status).toBe(404);
    expect((await call(`/cas/blake3/${"d".repeat(64)}`)).status).toBe(404);
    expect((await call("/cas/blake3/XYZ")).status).toBe(400);
  });

  it("refuses a publish whose Content-Type is not a media type", async () => {
    expect((await publish(`p-${unique()}.txt`, "x", { "Content-Type": "not a type" })).status).toBe(400);
  });

  it("never serves corrupted asset bytes", async () => {
    const path = `c-${unique()}.bin`;
    const bytes = randomBytes(300);
    await publish(path, bytes);
    await runInDurableObject(amnesiaStub(addressOf(bytes).slice(3)), (instance) => {
      (instance as unknown as { objects: Map<string, { bytes: Uint8Array }> }).objects.get(addressOf(bytes).slice(3))!.bytes[5]! ^= 1;
    });
    const response = await call(`/edge/assets/${path}`);
    expect(response.status).toBe(502);
    expect((await envelopeOf(response)).code).toBe("INTEGRITY_FAIL");
    expect((await call(`/edge/assets/${path}`, { headers: { Range: "bytes=0-3" } })).status).toBe(502);
  });
});

describe("edge asset pointers in the RAM budget (amnesia)", () => {
  it("counts each new path against AMNESIA_MAX_BYTES, so tiny assets under new paths cannot grow memory past it (one shard: the whole budget)", async () => {
    const one = { AMNESIA_SHARDS: "1" };
    const tiny = new TextEncoder().encode("x");
    const dir = `many-${unique()}`;
    expect((await publish(`${dir}/0.txt`, tiny, {}, one)).status).toBe(201); // the object itself is stored once
    const before = await amnesiaUsedBytes(1);
    expect((await publish(`${dir}/1.txt`, tiny, {}, one)).status).toBe(201);
    const perPointer = (await amnesiaUsedBytes(1)) - before;
    expect(perPointer).toBeGreaterThan(`edge:${dir}/1.txt`.length); // the path and its entry, no new object bytes
    const budget = { ...one, AMNESIA_MAX_BYTES: String((await amnesiaUsedBytes(1)) + 3 * perPointer) };
    const statuses: number[] = [];
    for (let i = 2; i < 12; i++) statuses.push((await publish(`${dir}/${i}.txt`, tiny, {}, budget)).status);
    expect(statuses.slice(0, 3)).toEqual([201, 201, 201]);
    expect(new Set(statuses.slice(3))).toEqual(new Set([503]));
    const refused = await publish(`${dir}/12.txt`, tiny, {}, budget);
    expect(await envelopeOf(refused)).toMatchObject({ code: "STORE_FULL", reason: "SHARD_FULL", message: expect.stringContaining("amnesia-0") });
    expect(await amnesiaUsedBytes(1)).toBeLessThanOrEqual(Number(budget.AMNESIA_MAX_BYTES));
    expect((await call(`/edge/assets/${dir}/2.txt`, {}, one)).status).toBe(200);
    expect((await call(`/edge/assets/${dir}/11.txt`, {}, one)).status).toBe(404);
  });
});
