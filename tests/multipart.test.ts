import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { r2Key, r2OutboardKey } from "../shared/store/r2-object-store";
import { MAX_PARTS, MIN_PART_BYTES, partLayout } from "../shared/store/multipart/plan";
import { VerifiedUpload } from "../shared/store/verified-upload";
import { blake3 } from "../shared/blake3";
import { ANONYMOUS, R2, addressOf, amnesiaStub, amnesiaUsedBytes, bytesOf, call, envelopeOf, randomBytes, trickle } from "./helpers";

const MIB = 1024 * 1024;
/** Two parts at the default part size: 8 MiB and a small remainder (the machine has 2 cores). */
const TWO_PART_SIZE = 8 * MIB + 3000;

/** Address of a multi-MiB object: the SIMD engine (tests/blake3*.test.ts check it against the official vectors); @noble takes seconds per 8 MiB here. */
const bigAddress = (bytes: Uint8Array) => `b3:${blake3().hashHex(bytes)}`;

/** Byte equality without vitest's element-by-element diff (minutes for 8 MiB). */
function sameBytes(a: Uint8Array | null, b: Uint8Array): boolean {
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

interface Opened {
  upload_id: string;
  part_bytes: number;
  parts: number;
}

const open = (body: unknown, overrides: Record<string, string>, headers: Record<string, string> = {}) =>
  call("/uploads", { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json", ...headers } }, overrides);

async function opened(address: string, size: number, overrides: Record<string, string>): Promise<Opened> {
  const response = await open({ address, size }, overrides);
  expect(response.status).toBe(201);
  return (await response.json()) as Opened;
}

/** A part's PUT; bytes go with their Content-Length (a stream goes without one). */
const putPart = (id: string, n: number | string, body: Uint8Array | ReadableStream<Uint8Array>, overrides: Record<string, string>, headers: Record<string, string> = {}) =>
  call(`/uploads/${id}/${n}`, { method: "PUT", body, headers: body instanceof Uint8Array ? { "Content-Length": String(body.length), ...headers } : headers }, overrides);
const complete = (id: string, overrides: Record<string, string>) => call(`/uploads/${id}/complete`, { method: "POST" }, overrides);
const abort = (id: string, overrides: Record<string, string>) => call(`/uploads/${id}`, { method: "DELETE" }, overrides);

async function metric(name: string, overrides: Record<string, string>, ...labels: string[]): Promise<number> {
  const text = await (await call("/metrics", {}, overrides)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && labels.every((label) => l.includes(label)));
  return line ? Number(line.split(" ").pop()) : 0;
}

/** The outboard a streamed upload of the same bytes builds (docs/OBJECTS.md): the multipart one must equal it. */
async function outboardOf(bytes: Uint8Array, address: string): Promise<Uint8Array> {
  const upload = new VerifiedUpload(new Blob([bytes]).stream(), { hex: address.slice(3), size: bytes.length, contentType: "application/octet-stream", groupBytes: 16 * 1024, chunkBytes: 64 * 1024 }, new AbortController().signal);
  await upload.verifyOnly();
  return upload.outboard();
}

describe("multipart part sizes (the production rule)", () => {
  it("parts are powers of two ≥ 8 MiB and ≥ the verify group, and never more than 10 000", () => {
    expect(partLayout(1, MIN_PART_BYTES, 16 * 1024)).toEqual({ size: 1, partBytes: 8 * MIB, parts: 1 });
    expect(partLayout(TWO_PART_SIZE, MIN_PART_BYTES, 16 * 1024).parts).toBe(2);
    expect(partLayout(8 * MIB, MIN_PART_BYTES, 16 * MIB).partBytes).toBe(16 * MIB);
    // 200 GiB at 8 MiB would be 25 600 parts: 32 MiB parts make 6 400
    const big = partLayout(200 * 1024 * MIB, MIN_PART_BYTES, 16 * 1024);
    expect(big).toEqual({ size: 200 * 1024 * MIB, partBytes: 32 * MIB, parts: 6400 });
    expect(big.parts).toBeLessThanOrEqual(MAX_PARTS);
    // a smaller minimum asked of the plan is still raised to 8 MiB
    expect(partLayout(TWO_PART_SIZE, 1024, 1024).partBytes).toBe(8 * MIB);
  });

  it("UPLOAD_PART_BYTES below 8 MiB or not a power of two is a configuration error, not a smaller part", async () => {
    const address = addressOf(randomBytes(10));
    for (const value of [String(4 * MIB), String(12 * MIB)]) {
      const response = await open({ address, size: 10 }, { UPLOAD_PART_BYTES: value });
      expect(response.status).toBe(503);
      expect((await envelopeOf(response)).message).toContain("UPLOAD_PART_BYTES");
    }
    const wider = await opened(address, 10, { UPLOAD_PART_BYTES: String(16 * MIB) });
    expect(wider.part_bytes).toBe(16 * MIB);
    expect((await abort(wider.upload_id, {})).status).toBe(204);
  });
});

for (const [mode, overrides] of [["amnesia", {}], ["r2", R2]] as const) {
  /** Nothing readable under the address, in the store's own terms too. */
  async function expectNothingStored(address: string, usedBefore: number) {
    expect((await call(`/o/${address}`, { method: "HEAD" }, overrides)).status).toBe(404);
    if (mode === "r2") {
      expect(await env.OBJECTS.head(r2Key(address.slice(3)))).toBeNull();
      expect(await env.OBJECTS.head(r2OutboardKey(address.slice(3)))).toBeNull();
    } else expect(await amnesiaUsedBytes()).toBe(usedBefore);
  }

  async function storedOutboard(address: string, length: number): Promise<Uint8Array | null> {
    if (mode === "r2") {
      const object = await env.OBJECTS.get(r2OutboardKey(address.slice(3)));
      return object ? new Uint8Array(await object.arrayBuffer()) : null;
    }
    return (amnesiaStub(address.slice(3)) as unknown as { getOutboard(hex: string, offset: number, length: number): Promise<Uint8Array | null> }).getOutboard(address.slice(3), 0, length);
  }

  describe(`multipart upload (${mode} store)`, () => {
    it("takes parts out of order, a retried part replaces the first, and completes to an object served whole, by Range, with its outboard", async () => {
      const bytes = randomBytes(TWO_PART_SIZE);
      const address = bigAddress(bytes);
      const upload = await opened(address, bytes.length, overrides);
      expect(upload.part_bytes).toBe(8 * MIB);
      expect(upload.parts).toBe(2);
      const tail = bytes.subarray(8 * MIB);
      const second = await putPart(upload.upload_id, 2, tail, overrides);
      expect(second.status).toBe(200);
      expect(await second.json()).toEqual({ part: 2, size: 3000 });
      const wrong = bytes.slice(0, 8 * MIB);
      wrong[12345]! ^= 0xff;
      expect((await putPart(upload.upload_id, 1, wrong, overrides)).status).toBe(200);
      const retried = await putPart(upload.upload_id, 1, bytes.subarray(0, 8 * MIB), overrides);
      expect(retried.status).toBe(200);
      expect(await retried.json()).toEqual({ part: 1, size: 8 * MIB });

      const done = await complete(upload.upload_id, overrides);
      expect(done.status).toBe(201);
      expect(await done.json()).toMatchObject({ address, size: bytes.length });
      expect(done.headers.get("location")).toBe(`/o/${address}`);

      const whole = await call(`/o/${address}`, {}, overrides);
      expect(whole.status).toBe(200);
      expect(sameBytes(await bytesOf(whole), bytes)).toBe(true);
      const from = 8 * MIB - 100;
      const range = await call(`/o/${address}`, { headers: { Range: `bytes=${from}-${from + 199}` } }, overrides);
      expect(range.status).toBe(206);
      expect(range.headers.get("content-range")).toBe(`bytes ${from}-${from + 199}/${bytes.length}`);
      expect(await bytesOf(range)).toEqual(bytes.subarray(from, from + 200));
      const expected = await outboardOf(bytes, address);
      expect(sameBytes(await storedOutboard(address, expected.length), expected)).toBe(true);

      // the upload is over: its id names nothing now
      expect((await putPart(upload.upload_id, 2, tail, overrides)).status).toBe(404);
      expect((await complete(upload.upload_id, overrides)).status).toBe(404);

      // another upload of the same object completes as "already stored"
      const again = await opened(address, bytes.length, overrides);
      expect((await putPart(again.upload_id, 1, bytes.subarray(0, 8 * MIB), overrides)).status).toBe(200);
      expect((await putPart(again.upload_id, 2, tail, overrides)).status).toBe(200);
      const existing = await complete(again.upload_id, overrides);
      expect(existing.status).toBe(200);
      expect(await existing.json()).toMatchObject({ address, size: bytes.length });
    });

    it("a part whose bytes are wrong: 422 ADDRESS_MISMATCH on complete, the upload aborted, nothing stored under any address", async () => {
      const bytes = randomBytes(8 * MIB + 10);
      const address = bigAddress(bytes);
      const usedBefore = mode === "amnesia" ? await amnesiaUsedBytes() : 0;
      const upload = await opened(address, bytes.length, overrides);
      const wrongTail = bytes.slice(8 * MIB);
      wrongTail[3]! ^= 1;
      expect((await putPart(upload.upload_id, 1, bytes.subarray(0, 8 * MIB), overrides)).status).toBe(200);
      expect((await putPart(upload.upload_id, 2, wrongTail, overrides)).status).toBe(200);
      const refused = await complete(upload.upload_id, overrides);
      expect(refused.status).toBe(422);
      const envelope = await envelopeOf(refused);
      expect(envelope.code).toBe("ADDRESS_MISMATCH");
      expect(envelope.reason).toBe("address_mismatch");
      await expectNothingStored(address, usedBefore);
      // nothing under the address the wrong bytes do hash to either
      const wrongBytes = bytes.slice();
      wrongBytes.set(wrongTail, 8 * MIB);
      expect((await call(`/o/${bigAddress(wrongBytes)}`, { method: "HEAD" }, overrides)).status).toBe(404);
      expect((await putPart(upload.upload_id, 2, bytes.subarray(8 * MIB), overrides)).status).toBe(404);
      if (mode === "r2") expect((await env.OBJECTS.list({ prefix: `uploads/${upload.upload_id}` })).objects).toEqual([]);
    });

    it.each([100, 40 * 1024 + 7])("a one-part object of %i bytes: wrong bytes 422, right bytes 201", async (size) => {
      const bytes = randomBytes(size);
      const address = addressOf(bytes);
      const bad = await opened(address, size, overrides);
      const wrong = bytes.slice();
      wrong[size - 1]! ^= 1;
      expect((await putPart(bad.upload_id, 1, wrong, overrides)).status).toBe(200);
      expect((await complete(bad.upload_id, overrides)).status).toBe(422);
      const good = await opened(address, size, overrides);
      expect(good.parts).toBe(1);
      expect((await putPart(good.upload_id, 1, bytes, overrides)).status).toBe(200);
      expect((await complete(good.upload_id, overrides)).status).toBe(201);
      expect(await bytesOf(await call(`/o/${address}`, {}, overrides))).toEqual(bytes);
    });

    it("refuses a part of the wrong length (400), without a length (411), or with a number outside the upload (400)", async () => {
      const bytes = randomBytes(8 * MIB + 50);
      const upload = await opened(bigAddress(bytes), bytes.length, overrides);
      const short = await putPart(upload.upload_id, 2, bytes.subarray(8 * MIB, 8 * MIB + 49), overrides);
      expect(short.status).toBe(400);
      expect((await envelopeOf(short)).reason).toBe("part_length");
      const long = await putPart(upload.upload_id, 1, new Uint8Array(100), overrides);
      expect(long.status).toBe(400);
      expect((await envelopeOf(long)).reason).toBe("part_length");
      const unsized = await putPart(upload.upload_id, 2, trickle([bytes.subarray(8 * MIB)]), overrides);
      expect(unsized.status).toBe(411);
      for (const n of ["0", "3", "x", "01"]) {
        const bad = await putPart(upload.upload_id, n, new Uint8Array(50), overrides);
        expect(bad.status).toBe(400);
        expect((await envelopeOf(bad)).reason).toBe("bad_part_number");
      }
      // and a missing part is named when completing
      expect((await putPart(upload.upload_id, 2, bytes.subarray(8 * MIB), overrides)).status).toBe(200);
      const missing = await complete(upload.upload_id, overrides);
      expect(missing.status).toBe(409);
      const envelope = await envelopeOf(missing);
      expect(envelope.reason).toBe("missing_parts");
      expect(envelope.message).toContain("1 of 2 parts are missing: 1");
      expect((await abort(upload.upload_id, overrides)).status).toBe(204);
    });

    it("aborts (204), after which the upload is unknown (404) and its budget released", async () => {
      const bytes = randomBytes(5000);
      const address = addressOf(bytes);
      const usedBefore = mode === "amnesia" ? await amnesiaUsedBytes() : 0;
      const upload = await opened(address, bytes.length, overrides);
      expect((await putPart(upload.upload_id, 1, bytes, overrides)).status).toBe(200);
      expect((await abort(upload.upload_id, overrides)).status).toBe(204);
      expect((await abort(upload.upload_id, overrides)).status).toBe(404);
      expect((await complete(upload.upload_id, overrides)).status).toBe(404);
      expect((await putPart(upload.upload_id, 1, bytes, overrides)).status).toBe(404);
      await expectNothingStored(address, usedBefore);
    });

    it("unknown or malformed upload ids are 404 on every route", async () => {
      for (const id of [crypto.randomUUID(), "not-an-id", "..%2F..%2Fb3"]) {
        expect((await putPart(id, 1, new Uint8Array(10), overrides)).status).toBe(404);
        expect((await complete(id, overrides)).status).toBe(404);
        expect((await abort(id, overrides)).status).toBe(404);
      }
    });

    it("expires an abandoned upload after UPLOAD_TTL_S: its id is 404, and a scrape counts it and lowers uploads_open", async () => {
      const short = { ...overrides, UPLOAD_TTL_S: "1" };
      const bytes = randomBytes(2000);
      const expiredBefore = await metric("uploads_total", overrides, `store="${mode}"`, 'outcome="expired"');
      const openBefore = await metric("uploads_open", overrides, `store="${mode}"`);
      const upload = await opened(addressOf(bytes), bytes.length, short);
      const lingering = await opened(addressOf(randomBytes(10)), 10, short);
      expect((await putPart(upload.upload_id, 1, bytes, short)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect((await putPart(upload.upload_id, 1, bytes, short)).status).toBe(404);
      expect((await complete(upload.upload_id, short)).status).toBe(404);
      // the other one nobody asked about again: the scrape's sweep drops and counts it
      expect(await metric("uploads_total", overrides, `store="${mode}"`, 'outcome="expired"')).toBe(expiredBefore + 2);
      expect(await metric("uploads_open", overrides, `store="${mode}"`)).toBe(openBefore);
      expect((await abort(lingering.upload_id, short)).status).toBe(404);
    });

    it("bounds open uploads by MAX_OPEN_UPLOADS: 429 past it, room again after an abort", async () => {
      const openNow = await metric("uploads_open", overrides, `store="${mode}"`);
      const cap = { ...overrides, MAX_OPEN_UPLOADS: String(openNow + 2) };
      const address = addressOf(randomBytes(10));
      const first = await opened(address, 10, cap);
      const second = await opened(address, 10, cap);
      const refusedBefore = await metric("uploads_total", overrides, `store="${mode}"`, 'outcome="refused"');
      const third = await open({ address, size: 10 }, cap);
      expect(third.status).toBe(429);
      const envelope = await envelopeOf(third);
      expect(envelope.reason).toBe("upload_limit");
      expect(third.headers.get("retry-after")).not.toBeNull();
      expect(await metric("uploads_open", overrides, `store="${mode}"`)).toBe(openNow + 2);
      expect(await metric("uploads_total", overrides, `store="${mode}"`, 'outcome="refused"')).toBe(refusedBefore + 1);
      expect((await abort(first.upload_id, cap)).status).toBe(204);
      const fourth = await opened(address, 10, cap);
      for (const upload of [second, fourth]) expect((await abort(upload.upload_id, cap)).status).toBe(204);
    });

    it("refuses an object over MAX_OBJECT_BYTES (413), a bad body (400), and a client without a put token (401)", async () => {
      const address = addressOf(randomBytes(10));
      const tooBig = await open({ address, size: 2000 }, { ...overrides, MAX_OBJECT_BYTES: "1000" });
      expect(tooBig.status).toBe(413);
      expect((await envelopeOf(tooBig)).reason).toBe("object_cap");
      for (const body of [{ address: "b3:xyz", size: 10 }, { address, size: 0 }, { address, size: 1.5 }, { address }, { address, size: 10, extra: 1 }]) {
        const bad = await open(body, overrides);
        expect(bad.status).toBe(400);
        expect((await envelopeOf(bad)).reason).toBe("bad_body");
      }
      expect((await open({ address, size: 10 }, overrides, ANONYMOUS)).status).toBe(401);
      expect((await putPart(crypto.randomUUID(), 1, new Uint8Array(1), overrides, ANONYMOUS)).status).toBe(401);
    });
  });
}
