import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { CV_BYTES, levelCount, levelOffset, treeShape } from "../shared/store/outboard";
import { r2OutboardKey } from "../shared/store/r2-object-store";
import { R2, addressOf, amnesiaStub, bytesOf, call, envelopeOf, metricsText, putRaw, randomBytes, flipStoredByte } from "./helpers";

/** 1 KiB groups: a 40 KiB object is a six-level tree (top level 3: windows of 8 groups). */
const G = 1024;
const SMALL = { VERIFY_GROUP_BYTES: String(G), STREAM_CHUNK_BYTES: "4096" };
const SIZE = 40 * G - 300;

type Entry = { bytes: Uint8Array; outboard?: Uint8Array };

async function integrityFailures(): Promise<number> {
  const text = await metricsText();
  return Number(/^integrity_fail_total (\d+)$/m.exec(text)?.[1] ?? NaN);
}

/** Read a response body until it ends or fails: what a client would have received. */
async function received(response: Response): Promise<{ bytes: Uint8Array; failed: boolean }> {
  const chunks: Uint8Array[] = [];
  let failed = false;
  try {
    for await (const chunk of response.body!) chunks.push(chunk);
  } catch {
    failed = true;
  }
  return { bytes: new Uint8Array(await new Blob(chunks).arrayBuffer()), failed };
}

for (const [mode, storeOverrides] of [["amnesia", {}], ["r2", R2]] as const) {
  const overrides = { ...storeOverrides, ...SMALL };
  const get = (address: string, range?: string, extra: Record<string, string> = {}) => call(`/o/${address}`, { headers: range ? { Range: range } : {} }, { ...overrides, ...extra });

  async function streamed(bytes: Uint8Array): Promise<string> {
    const address = addressOf(bytes);
    const response = await call(`/o/${address}`, { method: "PUT", body: bytes, headers: { "Content-Length": String(bytes.length) } }, overrides);
    expect(response.status).toBe(201);
    return address;
  }

  /** Change the stored bytes (or outboard) underneath the service. */
  const corrupt = (address: string, what: "bytes" | "outboard", at: number) => flipStoredByte(mode, address.slice(3), at, what);

  async function hasOutboard(address: string): Promise<boolean> {
    const hex = address.slice(3);
    if (mode === "r2") return (await env.OBJECTS.head(r2OutboardKey(hex))) !== null;
    return runInDurableObject(amnesiaStub(hex), (instance) => (instance as unknown as { objects: Map<string, Entry> }).objects.get(hex)?.outboard !== undefined);
  }

  describe(`verified reads (${mode} store)`, () => {
    it.each([
      ["bytes=0-0", 0, 0],
      ["bytes=1023-1024", 1023, 1024],
      ["bytes=1024-2047", 1024, 2047],
      ["bytes=1024-1024", 1024, 1024],
      ["bytes=2047-4096", 2047, 4096],
      ["bytes=8191-8192", 8191, 8192], // across a window of 8 groups
      ["bytes=-1", SIZE - 1, SIZE - 1],
      ["bytes=39935-", 39935, SIZE - 1], // the last, short group
      ["bytes=0-", 0, SIZE - 1],
    ])("serves %s at group edges, byte for byte", async (range, start, end) => {
      const bytes = randomBytes(SIZE);
      const address = await streamed(bytes);
      const response = await get(address, range);
      expect(response.status).toBe(206);
      expect(response.headers.get("content-range")).toBe(`bytes ${start}-${end}/${SIZE}`);
      expect(response.headers.get("content-length")).toBe(String(end - start + 1));
      expect(await bytesOf(response)).toEqual(bytes.subarray(start, end + 1));
    });

    it("keeps RFC 9110 answers: 416 past the end, 304 on a match, 412 on If-Match mismatch", async () => {
      const address = await streamed(randomBytes(SIZE));
      const unsatisfiable = await get(address, `bytes=${SIZE}-`);
      expect(unsatisfiable.status).toBe(416);
      expect(unsatisfiable.headers.get("content-range")).toBe(`bytes */${SIZE}`);
      expect((await call(`/o/${address}`, { headers: { "If-None-Match": `"${address}"` } }, overrides)).status).toBe(304);
      expect((await call(`/o/${address}`, { headers: { "If-Match": `"b3:${"0".repeat(64)}"` } }, overrides)).status).toBe(412);
    });

    // objects up to 1 MiB come back whole from one store call and every covering group is checked
    // before the answer; larger ones stream group by group
    it.each([
      ["held whole (≤ 1 MiB)", SIZE, false],
      ["streamed (> 1 MiB)", 1100 * G, true],
    ] as const)("never serves a group flipped underneath, and still serves ranges elsewhere: %s", async (_kind, size, streams) => {
      const bytes = randomBytes(size);
      const address = await streamed(bytes);
      const bad = 20; // a middle group
      await corrupt(address, "bytes", bad * G + 7);
      // ranges in other groups (also in the same window of 8) are served
      for (const [start, end] of [[0, 1023], [16 * G, 16 * G + 99], [21 * G, 23 * G + 5], [size - 10, size - 1]] as const) {
        const response = await get(address, `bytes=${start}-${end}`);
        expect(response.status).toBe(206);
        expect(await bytesOf(response)).toEqual(bytes.subarray(start, end + 1));
      }
      // a range that starts in the bad group: nothing sent yet, so 502
      let before = await integrityFailures();
      const refused = await get(address, `bytes=${bad * G + 100}-${bad * G + 200}`);
      expect(refused.status).toBe(502);
      expect((await envelopeOf(refused)).code).toBe("INTEGRITY_FAIL");
      expect(await integrityFailures()).toBe(before + 1);
      // a range that reaches it from a good group, and the whole object
      before = await integrityFailures();
      const cut = await get(address, `bytes=${18 * G}-${22 * G}`);
      const whole = await get(address);
      if (streams) {
        // cut short before the bad group, never completed
        expect(cut.status).toBe(206);
        const partial = await received(cut);
        expect(partial.failed).toBe(true);
        expect(partial.bytes.length).toBeLessThanOrEqual(2 * G);
        expect(partial.bytes).toEqual(bytes.subarray(18 * G, 18 * G + partial.bytes.length));
        const all = await received(whole);
        expect(all.failed).toBe(true);
        expect(all.bytes.length).toBeLessThanOrEqual(bad * G);
      } else {
        // every covering group was checked before the answer: nothing sent, 502
        for (const response of [cut, whole]) {
          expect(response.status).toBe(502);
          expect((await envelopeOf(response)).code).toBe("INTEGRITY_FAIL");
        }
      }
      expect(await integrityFailures()).toBe(before + 2);
    });

    it("detects a tampered outboard: a group CV (that window refused, others served) and the top level (all refused)", async () => {
      const bytes = randomBytes(SIZE);
      const address = await streamed(bytes);
      const shape = treeShape(SIZE, G);
      await corrupt(address, "outboard", levelOffset(shape, 0) + 5 * CV_BYTES + 3); // group 5, window 0
      expect((await get(address, "bytes=5200-5300")).status).toBe(502);
      expect((await get(address, "bytes=0-10")).status).toBe(502); // same window: its CVs no longer add up
      const elsewhere = await get(address, `bytes=${30 * G}-${30 * G + 10}`);
      expect(elsewhere.status).toBe(206);
      expect(await bytesOf(elsewhere)).toEqual(bytes.subarray(30 * G, 30 * G + 11));

      const other = randomBytes(SIZE);
      const otherAddress = await streamed(other);
      const top = shape.topLevel;
      expect(levelCount(shape, top)).toBeGreaterThan(1);
      await corrupt(otherAddress, "outboard", levelOffset(shape, top) + CV_BYTES + 1);
      const before = await integrityFailures();
      expect((await get(otherAddress, `bytes=${30 * G}-${30 * G + 10}`)).status).toBe(502);
      expect(await integrityFailures()).toBe(before + 1);
    });

    it("reads an outboard with its own group size whatever VERIFY_GROUP_BYTES says now", async () => {
      const bytes = randomBytes(SIZE);
      const address = await streamed(bytes);
      const response = await get(address, "bytes=3000-9000", { VERIFY_GROUP_BYTES: "4096" });
      expect(response.status).toBe(206);
      expect(await bytesOf(response)).toEqual(bytes.subarray(3000, 9001));
    });

    it("gives an object stored without an outboard (POST /put, or stored before) one on its first read", async () => {
      const bytes = randomBytes(SIZE);
      const put = await putRaw(bytes, {}, overrides);
      expect([200, 201]).toContain(put.status);
      const address = addressOf(bytes);
      expect(await hasOutboard(address)).toBe(false);
      const first = await get(address, "bytes=10000-10100");
      expect(first.status).toBe(206);
      expect(await bytesOf(first)).toEqual(bytes.subarray(10000, 10101));
      expect(await hasOutboard(address)).toBe(true);
      // from now on reads are group-verified: a flipped byte refuses only its group
      await corrupt(address, "bytes", 25 * G);
      expect((await get(address, `bytes=${25 * G}-${25 * G + 1}`)).status).toBe(502);
      const fine = await get(address, `bytes=${2 * G}-${3 * G}`);
      expect(fine.status).toBe(206);
      expect(await bytesOf(fine)).toEqual(bytes.subarray(2 * G, 3 * G + 1));
    });

    it("verifies edge reads the same way: /cas/blake3/:hex and an asset pointing at the object", async () => {
      const bytes = randomBytes(SIZE);
      const address = await streamed(bytes);
      const hex = address.slice(3);
      const asset = `/edge/assets/verified-${mode}/${hex.slice(0, 8)}.bin`;
      expect((await call(asset, { method: "PUT", body: bytes }, overrides)).status).toBeLessThan(300);
      await corrupt(address, "bytes", 12 * G + 5);
      for (const path of [`/cas/blake3/${hex}`, asset]) {
        const fine = await call(path, { headers: { Range: `bytes=${30 * G}-${31 * G}` } }, overrides);
        expect(fine.status).toBe(206);
        expect(await bytesOf(fine)).toEqual(bytes.subarray(30 * G, 31 * G + 1));
        const refused = await call(path, { headers: { Range: `bytes=${12 * G}-${12 * G + 9}` } }, overrides);
        expect(refused.status).toBe(502);
        expect((await envelopeOf(refused)).code).toBe("INTEGRITY_FAIL");
      }
    });

    it("streams each part of a multipart answer through the same checks (EDGE_MULTI_RANGE)", async () => {
      const bytes = randomBytes(SIZE);
      const hex = (await streamed(bytes)).slice(3);
      const multi = { ...overrides, EDGE_MULTI_RANGE: "true" };
      const response = await call(`/cas/blake3/${hex}`, { headers: { Range: `bytes=0-99,${30 * G}-${32 * G + 10}` } }, multi);
      expect(response.status).toBe(206);
      expect(response.headers.get("content-type")).toMatch(/^multipart\/byteranges; boundary=/);
      const body = await bytesOf(response);
      expect(body.length).toBe(Number(response.headers.get("content-length")));
      const text = new TextDecoder("latin1").decode(body);
      const second = bytes.subarray(30 * G, 32 * G + 11);
      const at = text.indexOf(`Content-Range: bytes ${30 * G}-${32 * G + 10}/${SIZE}\r\n\r\n`);
      expect(at).toBeGreaterThan(0);
      const start = at + `Content-Range: bytes ${30 * G}-${32 * G + 10}/${SIZE}\r\n\r\n`.length;
      expect(body.subarray(start, start + second.length)).toEqual(second);
      // a part over a flipped group: the answer is cut short, never completed
      await corrupt(`b3:${hex}`, "bytes", 31 * G);
      const cut = await call(`/cas/blake3/${hex}`, { headers: { Range: `bytes=0-99,${30 * G}-${32 * G + 10}` } }, multi);
      expect(cut.status).toBe(206);
      const partial = await received(cut);
      expect(partial.failed).toBe(true);
      expect(partial.bytes.length).toBeLessThan(Number(cut.headers.get("content-length")));
    });

    it("refuses an object without an outboard whose bytes changed, and builds no outboard for it", async () => {
      const bytes = randomBytes(SIZE);
      expect([200, 201]).toContain((await putRaw(bytes, {}, overrides)).status);
      const address = addressOf(bytes);
      await corrupt(address, "bytes", 33 * G);
      const before = await integrityFailures();
      const response = await get(address, "bytes=0-99");
      expect(response.status).toBe(502);
      expect(await integrityFailures()).toBe(before + 1);
      expect(await hasOutboard(address)).toBe(false);
    });
  });
}
