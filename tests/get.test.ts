import { abortAllDurableObjects, env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { r2Key } from "../shared/store/r2-object-store";
import { R2, addressOf, amnesiaStub, bytesOf, call, envelopeOf, putJson, putRaw, randomBytes, metricsText } from "./helpers";

async function stored(bytes: Uint8Array, overrides: Record<string, string> = {}) {
  const response = await putRaw(bytes, {}, overrides);
  expect([200, 201]).toContain(response.status);
  return addressOf(bytes);
}

for (const [mode, overrides] of [["amnesia", {}], ["r2", R2]] as const) {
  describe(`GET/HEAD /o/:addr (${mode} store)`, () => {
    const get = (address: string, headers: Record<string, string> = {}, method = "GET") => call(`/o/${address}`, { method, headers }, overrides);

    it("serves the bytes with length, strong ETag, immutable caching and Accept-Ranges", async () => {
      const bytes = randomBytes(3000);
      const address = await stored(bytes, overrides);
      const response = await get(address);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("application/octet-stream");
      expect(response.headers.get("content-length")).toBe("3000");
      expect(response.headers.get("etag")).toBe(`"${address}"`);
      expect(response.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(response.headers.get("accept-ranges")).toBe("bytes");
      expect(await bytesOf(response)).toEqual(bytes);
    });

    it("answers HEAD with the same headers and no body", async () => {
      const bytes = randomBytes(1234);
      const address = await stored(bytes, overrides);
      const response = await get(address, {}, "HEAD");
      expect(response.status).toBe(200);
      expect(response.headers.get("content-length")).toBe("1234");
      expect(response.headers.get("etag")).toBe(`"${address}"`);
      expect((await response.arrayBuffer()).byteLength).toBe(0);
    });

    it.each([
      ["bytes=0-99", 0, 99],
      ["bytes=100-", 100, 999],
      ["bytes=-10", 990, 999],
      ["bytes=990-5000", 990, 999],
      ["bytes=-5000", 0, 999],
      ["bytes=999-999", 999, 999],
    ])("serves single range %s as 206", async (range, start, end) => {
      const bytes = randomBytes(1000);
      const address = await stored(bytes, overrides);
      const response = await get(address, { Range: range });
      expect(response.status).toBe(206);
      expect(response.headers.get("content-range")).toBe(`bytes ${start}-${end}/1000`);
      expect(response.headers.get("content-length")).toBe(String(end - start + 1));
      expect(response.headers.get("etag")).toBe(`"${address}"`);
      expect(await bytesOf(response)).toEqual(bytes.subarray(start, end + 1));
    });

    it.each(["bytes=1000-", "bytes=5000-6000", "bytes=-0"])("answers unsatisfiable range %s with 416 and bytes */len", async (range) => {
      const address = await stored(randomBytes(1000), overrides);
      const response = await get(address, { Range: range });
      expect(response.status).toBe(416);
      expect(response.headers.get("content-range")).toBe("bytes */1000");
      expect((await envelopeOf(response)).code).toBe("RANGE_NOT_SATISFIABLE");
    });

    it.each(["bytes=5-2", "bytes=abc", "items=0-5", "bytes=0-1,5-6", "bytes=", "bytes=--5"])(
      "ignores invalid or multiple range %s and serves 200 in full",
      async (range) => {
        const bytes = randomBytes(100);
        const address = await stored(bytes, overrides);
        const response = await get(address, { Range: range });
        expect(response.status).toBe(200);
        expect(await bytesOf(response)).toEqual(bytes);
      },
    );

    it.each([
      ["the exact tag", (a: string) => `"${a}"`],
      ["a weak form of it", (a: string) => `W/"${a}"`],
      ["a list containing it", (a: string) => `"b3:${"0".repeat(64)}", "${a}"`],
      ["*", () => "*"],
    ])("answers If-None-Match with %s by 304 and no body", async (_name, header) => {
      const address = await stored(randomBytes(500), overrides);
      for (const method of ["GET", "HEAD"]) {
        const response = await get(address, { "If-None-Match": header(address) }, method);
        expect(response.status).toBe(304);
        expect(response.headers.get("etag")).toBe(`"${address}"`);
        expect((await response.arrayBuffer()).byteLength).toBe(0);
      }
    });

    it("serves 200 when If-None-Match names other tags", async () => {
      const bytes = randomBytes(64);
      const address = await stored(bytes, overrides);
      const response = await get(address, { "If-None-Match": `"b3:${"1".repeat(64)}", W/"other"` });
      expect(response.status).toBe(200);
      expect(await bytesOf(response)).toEqual(bytes);
    });

    it("answers 404 for a well-formed unknown address, also with If-None-Match: *", async () => {
      const unknown = `b3:${"ab".repeat(32)}`;
      for (const headers of [{}, { "If-None-Match": "*" }] as Record<string, string>[]) {
        const response = await get(unknown, headers);
        expect(response.status).toBe(404);
        expect((await envelopeOf(response)).code).toBe("NOT_FOUND");
      }
      expect((await get(unknown, {}, "HEAD")).status).toBe(404);
    });

    it.each([
      "b3:" + "A".repeat(64),
      "b3:" + "a".repeat(63),
      "b3:" + "a".repeat(65),
      "b3:" + "g".repeat(64),
      "B3:" + "a".repeat(64),
      "sha256:" + "a".repeat(64),
      "a".repeat(64),
    ])("answers 400 MALFORMED for %s", async (address) => {
      const response = await get(address);
      expect(response.status).toBe(400);
      expect((await envelopeOf(response)).code).toBe("MALFORMED");
    });

    it("serves the stored Content-Type from the JSON envelope", async () => {
      const response = await putJson({ payload: btoa("{\"hello\":\"world\"}"), meta: { type: "application/json" } }, overrides);
      const { address } = await response.json<any>();
      expect((await get(address)).headers.get("content-type")).toBe("application/json");
    });

    it("answers 405 with Allow for other methods", async () => {
      const response = await call(`/o/b3:${"a".repeat(64)}`, { method: "DELETE" }, overrides);
      expect(response.status).toBe(405);
      expect(response.headers.get("allow")).toBe("GET, HEAD, PUT");
    });
  });
}

describe("integrity on read", () => {
  async function integrityFailures(): Promise<number> {
    const text = await metricsText();
    return Number(/^integrity_fail_total (\d+)$/m.exec(text)?.[1] ?? NaN);
  }

  it("refuses to serve R2 bytes that no longer match their address: 502 INTEGRITY_FAIL, counter +1", async () => {
    const bytes = randomBytes(2048);
    const address = await stored(bytes, R2);
    const before = await integrityFailures();
    const tampered = bytes.slice();
    tampered[100]! ^= 0xff;
    await env.OBJECTS.put(r2Key(address.slice(3)), tampered); // corrupt underneath the service
    const response = await call(`/o/${address}`, {}, R2);
    expect(response.status).toBe(502);
    expect((await envelopeOf(response)).code).toBe("INTEGRITY_FAIL");
    expect(await integrityFailures()).toBe(before + 1);
    // a range of corrupted bytes is refused too: the whole object is verified first
    expect((await call(`/o/${address}`, { headers: { Range: "bytes=0-10" } }, R2)).status).toBe(502);
  });

  it("refuses to serve amnesia bytes that no longer match their address", async () => {
    const bytes = randomBytes(4096);
    const address = await stored(bytes);
    const before = await integrityFailures();
    await runInDurableObject(amnesiaStub(address.slice(3)), (instance) => {
      const objects = (instance as unknown as { objects: Map<string, { bytes: Uint8Array }> }).objects;
      objects.get(address.slice(3))!.bytes[7]! ^= 1;
    });
    const response = await call(`/o/${address}`);
    expect(response.status).toBe(502);
    expect((await envelopeOf(response)).code).toBe("INTEGRITY_FAIL");
    expect(await integrityFailures()).toBe(before + 1);
  });
});

describe("amnesia store lifetime", () => {
  it("keeps objects across an eviction of the idle store instance, and an edge pointer with them", async () => {
    const bytes = randomBytes(2_000);
    const { address } = (await (await putRaw(bytes)).json()) as { address: string };
    expect((await call("/edge/assets/lifetime/x.bin", { method: "PUT", body: bytes })).status).toBe(201);
    await abortAllDurableObjects(); // what workerd does to an instance idle for ~10 s
    expect(await bytesOf(await call(`/o/${address}`))).toEqual(bytes);
    expect(await bytesOf(await call("/edge/assets/lifetime/x.bin"))).toEqual(bytes);
  });
});
