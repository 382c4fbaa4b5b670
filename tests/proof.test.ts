/**
 * Verified slices end to end inside workerd: `?proof=1` on `/o`, `/cas` and assets answers the
 * range's groups with the sibling CVs from the stored outboard, byte for byte the slice the
 * reference builder makes from the whole object; the SDK accepts the server's slices and refuses
 * every kind of tamper; the server refuses (502) to prove a group whose stored bytes changed.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import objectsDoc from "../docs/OBJECTS.md?raw";
import { blake3Tree, toHex } from "../shared/blake3";
import { CV_BYTES, levelOffset, treeShape } from "../shared/store/outboard";
import { SLICE_HEADER_BYTES, sliceOfBytes, slicePlan } from "../shared/store/slice";
import { InteropClient, SLICE_MEDIA_TYPE, SliceError, verifySlice } from "../sdk";
import { R2, addressOf, bytesOf, call, envelopeOf, putRaw, randomBytes, flipStoredByte } from "./helpers";

/** 1 KiB groups keep the trees deep with small objects. */
const G = 1024;
const SMALL = { VERIFY_GROUP_BYTES: String(G), STREAM_CHUNK_BYTES: "4096" };
const tree = blake3Tree();


/** The SliceError `verify` throws (it must throw one). */
function refusal(verify: () => unknown): SliceError {
  try {
    verify();
  } catch (error) {
    if (error instanceof SliceError) return error;
    throw error;
  }
  throw new Error("the slice was accepted");
}

/** Byte equality without vitest's element-by-element diffing (slices here run to a MiB). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

const flipped = (bytes: Uint8Array, at: number) => {
  const copy = bytes.slice();
  copy[at]! ^= 0x01;
  return copy;
};

for (const [mode, storeOverrides] of [["amnesia", {}], ["r2", R2]] as const) {
  const overrides = { ...storeOverrides, ...SMALL };
  const proof = (path: string, range?: string, extra: Record<string, string> = {}, method = "GET") =>
    call(`${path}${path.includes("?") ? "&" : "?"}proof=1`, { method, headers: range ? { Range: range } : {} }, { ...overrides, ...extra });

  async function streamed(bytes: Uint8Array): Promise<string> {
    const address = addressOf(bytes);
    const response = await call(`/o/${address}`, { method: "PUT", body: bytes, headers: { "Content-Length": String(bytes.length) } }, overrides);
    expect(response.status).toBe(201);
    return address;
  }

  const corrupt = (address: string, what: "bytes" | "outboard", at: number) => flipStoredByte(mode, address.slice(3), at, what);

  /** The server's slice for `range` (inclusive HTTP form, or none): checked against the reference and the SDK. */
  async function provenSlice(bytes: Uint8Array, address: string, start: number, end: number, range?: string): Promise<Uint8Array> {
    const response = await proof(`/o/${address}`, range);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe(SLICE_MEDIA_TYPE);
    expect(response.headers.get("vary")).toBe("Range");
    const slice = await bytesOf(response);
    expect(slice.length).toBe(Number(response.headers.get("content-length")));
    expect(sameBytes(slice, sliceOfBytes(tree, bytes, { groupBytes: G, start, end })), "the reference slice").toBe(true);
    const verified = verifySlice(address, slice, { start, end });
    expect(verified).toMatchObject({ start, end, size: bytes.length });
    expect(sameBytes(verified.bytes, bytes.subarray(start, end)), "the verified bytes").toBe(true);
    return slice;
  }

  describe(`verified slices (${mode} store)`, () => {
    // 5 full groups and a partial sixth: an unbalanced tree (left 4 groups, right 2)
    const SIZE = 5 * G + 300;

    it.each([
      ["the whole object", undefined, 0, SIZE],
      ["the first group", "bytes=0-1023", 0, G],
      ["one byte, first of a group", "bytes=1024-1024", G, G + 1],
      ["one byte, last of a group", "bytes=2047-2047", 2 * G - 1, 2 * G],
      ["across a group edge", "bytes=1023-1024", G - 1, G + 1],
      ["groups 2 to 4 exactly", "bytes=2048-5119", 2 * G, 5 * G],
      ["the last, short group", "bytes=5120-", 5 * G, SIZE],
      ["a suffix", "bytes=-10", SIZE - 10, SIZE],
    ])("proves %s of a 6-group object", async (_what, range, start, end) => {
      const bytes = randomBytes(SIZE);
      await provenSlice(bytes, await streamed(bytes), start, end, range);
    });

    it.each([
      ["40 groups, last short", 40 * G - 300, 17 * G + 5, 23 * G - 1],
      ["37 groups, last one byte", 36 * G + 1, 3 * G, 4 * G],
      ["33 groups: the range in the lone right subtree", 32 * G + 700, 32 * G + 1, 32 * G + 2],
    ])("proves ranges of a larger unbalanced tree: %s", async (_what, size, start, end) => {
      const bytes = randomBytes(size);
      const address = await streamed(bytes);
      const slice = await provenSlice(bytes, address, start, end, `bytes=${start}-${end - 1}`);
      // only the covering groups and the last one are sent, the rest as a few CVs
      const plan = slicePlan({ size, groupBytes: G, start, end });
      expect(plan.siblings.length).toBeLessThanOrEqual(3 * Math.ceil(Math.log2(plan.groups)));
      expect(slice.length).toBeLessThan(SLICE_HEADER_BYTES + (end - start) + 2 * G + plan.siblings.length * CV_BYTES + 1);
      await provenSlice(bytes, address, 0, size);
    });

    it.each([
      ["under one group", 700],
      ["exactly one group", G],
    ])("proves an object of one group (%s): the root is the group itself, finalised as root", async (_what, size) => {
      const bytes = randomBytes(size);
      const address = await streamed(bytes);
      const slice = await provenSlice(bytes, address, 0, size);
      expect(slice.length).toBe(SLICE_HEADER_BYTES + size); // no siblings
      await provenSlice(bytes, address, 100, 200, "bytes=100-199");
    });

    it("proves the empty object (0..0), and answers any range of it 416", async () => {
      const empty = new Uint8Array(0);
      const address = addressOf(empty);
      const put = await call(`/o/${address}`, { method: "PUT", body: empty, headers: { "Content-Length": "0" } }, overrides);
      expect([200, 201]).toContain(put.status);
      const slice = await provenSlice(empty, address, 0, 0);
      expect(slice.length).toBe(SLICE_HEADER_BYTES);
      const unsatisfiable = await proof(`/o/${address}`, "bytes=0-");
      expect(unsatisfiable.status).toBe(416);
    });

    it("proves an object stored without an outboard (POST /put): built on this first read", async () => {
      const bytes = randomBytes(9 * G + 1);
      expect([200, 201]).toContain((await putRaw(bytes, {}, overrides)).status);
      await provenSlice(bytes, addressOf(bytes), 3 * G, 3 * G + 10, `bytes=${3 * G}-${3 * G + 9}`);
    });

    it("keeps the outboard's group size whatever VERIFY_GROUP_BYTES says now", async () => {
      const bytes = randomBytes(SIZE);
      const address = await streamed(bytes);
      const response = await proof(`/o/${address}`, "bytes=3000-3001", { VERIFY_GROUP_BYTES: "4096" });
      const slice = await bytesOf(response);
      expect(slice[5]).toBe(10); // log2 of the outboard's 1 KiB
      expect(verifySlice(address, slice, { start: 3000, end: 3002 }).bytes).toEqual(bytes.subarray(3000, 3002));
    });

    it("answers HEAD with the slice's headers and length, and honours If-Range (a mismatch: the whole object)", async () => {
      const bytes = randomBytes(SIZE);
      const address = await streamed(bytes);
      const head = await proof(`/o/${address}`, "bytes=10-20", {}, "HEAD");
      expect(head.status).toBe(200);
      expect(head.headers.get("content-type")).toBe(SLICE_MEDIA_TYPE);
      expect(Number(head.headers.get("content-length"))).toBe(slicePlan({ size: SIZE, groupBytes: G, start: 10, end: 21 }).sliceBytes);
      expect(await head.text()).toBe("");
      const stale = await call(`/o/${address}?proof=1`, { headers: { Range: "bytes=10-20", "If-Range": `"b3:${"0".repeat(64)}"` } }, overrides);
      expect(verifySlice(address, await bytesOf(stale), { start: 0, end: SIZE }).bytes).toEqual(bytes);
    });

    it("refuses a bad proof query or several ranges with a 400 envelope, a range past the end with 416", async () => {
      const address = await streamed(randomBytes(SIZE));
      for (const query of ["proof=yes", "proof=", "proof=1&proof=1", "proof=true"]) {
        const response = await call(`/o/${address}?${query}`, {}, overrides);
        expect(response.status).toBe(400);
        expect(await envelopeOf(response)).toMatchObject({ code: "BAD_REQUEST", reason: "proof_query" });
        expect((await call(`/o/${address}?${query}`, { method: "HEAD" }, overrides)).status).toBe(400);
      }
      const several = await proof(`/o/${address}`, "bytes=0-9,4000-4009");
      expect(several.status).toBe(400);
      expect(await envelopeOf(several)).toMatchObject({ code: "BAD_REQUEST", reason: "proof_ranges" });
      const merged = await proof(`/o/${address}`, "bytes=0-9,10-19"); // adjacent specs are one range
      expect(merged.status).toBe(200);
      const past = await proof(`/o/${address}`, `bytes=${SIZE}-`);
      expect(past.status).toBe(416);
      expect(past.headers.get("content-range")).toBe(`bytes */${SIZE}`);
      expect((await envelopeOf(past)).code).toBe("RANGE_NOT_SATISFIABLE");
      expect((await proof(`/o/b3:${"e".repeat(64)}`)).status).toBe(404);
    });

    it("refuses (502) to prove a group flipped underneath; proofs elsewhere still served", async () => {
      const size = 40 * G - 300;
      const bytes = randomBytes(size);
      const address = await streamed(bytes);
      await corrupt(address, "bytes", 20 * G + 7);
      const refused = await proof(`/o/${address}`, `bytes=${20 * G + 100}-${20 * G + 200}`);
      expect(refused.status).toBe(502);
      expect((await envelopeOf(refused)).code).toBe("INTEGRITY_FAIL");
      await provenSlice(bytes, address, 3 * G, 4 * G, `bytes=${3 * G}-${4 * G - 1}`);
      await provenSlice(bytes, address, 30 * G, 30 * G + 1, `bytes=${30 * G}-${30 * G}`);
    });

    it("streams the slice of an object over 1 MiB (groups read as they are sent); a group flipped mid-slice cuts it short", async () => {
      const size = 1100 * G + 1;
      const bytes = randomBytes(size);
      const address = await streamed(bytes);
      await provenSlice(bytes, address, 500 * G - 3, 530 * G + 3, `bytes=${500 * G - 3}-${530 * G + 2}`);
      await provenSlice(bytes, address, 0, size);
      await corrupt(address, "bytes", 515 * G);
      const cut = await proof(`/o/${address}`, `bytes=${500 * G}-${530 * G}`);
      expect(cut.status).toBe(200); // group 500 was fine: the answer had begun
      let received = 0;
      let failed = false;
      try {
        for await (const chunk of cut.body!) received += chunk.length;
      } catch {
        failed = true;
      }
      expect(failed).toBe(true);
      expect(received).toBeLessThan(Number(cut.headers.get("content-length")));
      // a range whose first group is the flipped one: nothing sent yet, 502
      expect((await proof(`/o/${address}`, `bytes=${515 * G}-${515 * G + 9}`)).status).toBe(502);
    });

    it("refuses (502) to send a sibling CV the outboard no longer vouches for", async () => {
      const size = 40 * G - 300;
      const bytes = randomBytes(size);
      const address = await streamed(bytes);
      // the node over groups 2–3 (level 1 [1]) is a sibling of a proof of group 0; a plain read
      // never reads level 1 (it checks group CVs against the top level), so only the proof's own
      // check can catch it
      await corrupt(address, "outboard", levelOffset(treeShape(size, G), 1) + 1 * CV_BYTES + 4);
      const plain = await call(`/o/${address}`, { headers: { Range: "bytes=0-9" } }, overrides);
      expect(plain.status).toBe(206);
      expect(await bytesOf(plain)).toEqual(bytes.subarray(0, 10));
      const refused = await proof(`/o/${address}`, "bytes=0-9");
      expect(refused.status).toBe(502);
      expect((await envelopeOf(refused)).code).toBe("INTEGRITY_FAIL");
    });

    it("proves through /cas/blake3/:hex and a pinned asset the same way", async () => {
      const bytes = randomBytes(SIZE);
      const address = await streamed(bytes);
      const hex = address.slice(3);
      const asset = `/edge/assets/proof-${mode}/${hex.slice(0, 8)}.bin`;
      expect((await call(asset, { method: "PUT", body: bytes }, overrides)).status).toBeLessThan(300);
      for (const path of [`/cas/blake3/${hex}`, `${asset}?b3=${hex}`]) {
        const response = await proof(path, "bytes=1500-2600");
        expect(response.status).toBe(200);
        expect(response.headers.get("content-type")).toBe(SLICE_MEDIA_TYPE);
        expect(verifySlice(address, await bytesOf(response), { start: 1500, end: 2601 }).bytes).toEqual(bytes.subarray(1500, 2601));
        const head = await proof(path, "bytes=1500-2600", {}, "HEAD");
        expect(Number(head.headers.get("content-length"))).toBe(slicePlan({ size: SIZE, groupBytes: G, start: 1500, end: 2601 }).sliceBytes);
      }
      expect((await call(`/cas/blake3/${hex}?proof=2`, {}, overrides)).status).toBe(400);
    });
  });
}

describe("the SDK refuses a tampered slice of the real server", () => {
  const SIZE = 5 * G + 300;

  async function served(start: number, end: number): Promise<{ bytes: Uint8Array; address: string; slice: Uint8Array }> {
    const bytes = randomBytes(SIZE);
    const address = addressOf(bytes);
    expect((await call(`/o/${address}`, { method: "PUT", body: bytes, headers: { "Content-Length": String(SIZE) } }, SMALL)).status).toBe(201);
    const response = await call(`/o/${address}?proof=1`, { headers: { Range: `bytes=${start}-${end - 1}` } }, SMALL);
    return { bytes, address, slice: await bytesOf(response) };
  }

  it("accepts the untouched slice, and refuses each kind of tamper with a typed SliceError", async () => {
    // group 1 asked: siblings are group 0's CV and the (groups 2–3) node's; group 5 (the last) is sent too
    const { bytes, address, slice } = await served(G + 10, G + 20);
    expect(verifySlice(address, slice, { start: G + 10, end: G + 20 }).bytes).toEqual(bytes.subarray(G + 10, G + 20));
    const siblings = slicePlan({ size: SIZE, groupBytes: G, start: G + 10, end: G + 20 }).siblings.length;
    expect(siblings).toBeGreaterThan(0);
    const dataAt = SLICE_HEADER_BYTES + siblings * CV_BYTES;
    const header = (edit: (view: DataView) => void) => {
      const copy = slice.slice();
      edit(new DataView(copy.buffer));
      return copy;
    };
    const cases: [string, Uint8Array, SliceError["reason"][], { start: number; end: number } | undefined][] = [
      ["a flipped byte inside the range", flipped(slice, dataAt + 15), ["mismatch"], undefined],
      ["a flipped byte of the range's group outside the range", flipped(slice, dataAt + 1000), ["mismatch"], undefined],
      ["a flipped byte of the last group", flipped(slice, slice.length - 1), ["mismatch"], undefined],
      ["a flipped bit in a sibling CV", flipped(slice, SLICE_HEADER_BYTES + 3), ["mismatch"], undefined],
      ["truncated", slice.subarray(0, slice.length - 1), ["length"], undefined],
      ["truncated to its header", slice.subarray(0, 20), ["length"], undefined],
      ["one byte too many", Uint8Array.of(...slice, 0), ["length"], undefined],
      ["another range in the header", header((v) => v.setBigUint64(16, BigInt(G + 11), true)), ["range"], { start: G + 10, end: G + 20 }],
      ["a range end past the size", header((v) => v.setBigUint64(24, BigInt(SIZE + 1), true)), ["range"], undefined],
      ["a size one byte longer", header((v) => v.setBigUint64(8, BigInt(SIZE + 1), true)), ["length", "mismatch"], undefined],
      ["a size one group shorter", header((v) => v.setBigUint64(8, BigInt(SIZE - G), true)), ["length", "mismatch"], undefined],
      ["another group size", header((v) => v.setUint8(5, 11)), ["length", "mismatch"], undefined],
      ["another magic", header((v) => v.setUint8(3, 0x54)), ["malformed"], undefined],
      ["another version", header((v) => v.setUint8(4, 2)), ["malformed"], undefined],
      ["a size past 2^53", header((v) => v.setBigUint64(8, 2n ** 60n, true)), ["malformed"], undefined],
      // a claim of a 2^53-byte range is refused by its length at once, not walked group by group
      ["a huge range", header((v) => (v.setBigUint64(8, BigInt(Number.MAX_SAFE_INTEGER), true), v.setBigUint64(24, BigInt(Number.MAX_SAFE_INTEGER), true))), ["length"], undefined],
    ];
    for (const [what, tampered, reasons, expected] of cases) {
      const error = refusal(() => verifySlice(address, tampered, expected));
      expect(reasons, what).toContain(error.reason);
      expect(error.name).toBe("SliceError");
    }
    // and the right slice for another object
    const other = await served(G + 10, G + 20);
    expect(refusal(() => verifySlice(address, other.slice)).reason).toBe("mismatch");
    expect(() => verifySlice("b3:nothex", slice)).toThrow(TypeError);
  });

  it("fetches and verifies ranges and whole objects through InteropClient.getVerified", async () => {
    const intoWorker: typeof fetch = async (input, init) => {
      const url = new URL(String(input instanceof Request ? input.url : input));
      return call(url.pathname + url.search, init, SMALL);
    };
    const client = new InteropClient("http://node", { fetch: intoWorker });
    const bytes = randomBytes(SIZE);
    const address = addressOf(bytes);
    expect((await call(`/o/${address}`, { method: "PUT", body: bytes, headers: { "Content-Length": String(SIZE) } }, SMALL)).status).toBe(201);
    expect((await client.getVerified(address))!.bytes).toEqual(bytes);
    expect((await client.getVerified(address, { start: 2000, end: 4100 }))!.bytes).toEqual(bytes.subarray(2000, 4100));
    expect((await client.getVerified(address, { start: 5000 }))!.bytes).toEqual(bytes.subarray(5000));
    expect((await client.getVerified(address, { start: 5000, end: SIZE + 100 }))!).toMatchObject({ start: 5000, end: SIZE });
    expect(await client.getVerified(`b3:${"e".repeat(64)}`)).toBeNull();
    await expect(client.getVerified(address, { start: SIZE })).rejects.toMatchObject({ status: 416 });
    // a server (or cache, or proxy) that flips a byte on the way is caught by the client
    const tampering = new InteropClient("http://node", {
      fetch: async (input, init) => {
        const body = await bytesOf(await intoWorker(input, init));
        return new Response(flipped(body, body.length - 5), { headers: { "content-type": SLICE_MEDIA_TYPE } });
      },
    });
    await expect(tampering.getVerified(address, { start: 10, end: 20 })).rejects.toMatchObject({ name: "SliceError", reason: "mismatch" });
    // and one that answers another range with a valid slice
    const otherRange = new InteropClient("http://node", {
      fetch: async (input) => intoWorker(String(input), { headers: { range: "bytes=0-9" } }),
    });
    await expect(otherRange.getVerified(address, { start: 10, end: 20 })).rejects.toMatchObject({ name: "SliceError", reason: "range" });
  });
});

describe("slices of every shape check against an independent BLAKE3", () => {
  it("for sizes around group and power-of-two edges and every kind of range, the SDK accepts exactly the right bytes", () => {
    for (const size of [1, G - 1, G, G + 1, 2 * G, 3 * G, 4 * G + 1, 5 * G + 300, 8 * G, 9 * G - 1, 17 * G, 33 * G + 1]) {
      const bytes = randomBytes(size);
      const address = addressOf(bytes); // @noble/hashes, not the engine the slices are made with
      const groups = Math.ceil(size / G);
      const ranges = [[0, size], [0, 1], [size - 1, size], [Math.floor(size / 2), Math.floor(size / 2) + 1], [G - 1, Math.min(G + 1, size)], [(groups - 1) * G, size]];
      for (const [start, end] of ranges.filter(([a, b]) => a! < b! && b! <= size) as [number, number][]) {
        const slice = sliceOfBytes(tree, bytes, { groupBytes: G, start, end });
        expect(sameBytes(verifySlice(address, slice, { start, end }).bytes, bytes.subarray(start, end)), `${size} bytes, ${start}-${end}`).toBe(true);
        // one flipped byte anywhere past the header (a sibling CV or group data) is refused
        const at = SLICE_HEADER_BYTES + ((start * 7 + end) % (slice.length - SLICE_HEADER_BYTES));
        expect(refusal(() => verifySlice(address, flipped(slice, at))).reason).toBe("mismatch");
      }
    }
  });
});

describe("the documented slice vector (docs/OBJECTS.md)", () => {
  const block = /<!-- slice-vector:begin -->([\s\S]*?)<!-- slice-vector:end -->/.exec(objectsDoc)?.[1] ?? "";
  const input = Uint8Array.from({ length: 5096 }, (_, i) => i % 251);

  it("is what the code makes, and what a server sends for that object", async () => {
    const address = /^address: (b3:[0-9a-f]{64})$/m.exec(block)?.[1];
    const [, first, last, length] = /^slice of bytes (\d+)–(\d+) \(Range: bytes=\d+-\d+\), (\d+) bytes:$/m.exec(block) ?? [];
    const hexLines = [...block.matchAll(/^ {2}([0-9a-f]{32,64}) /gm)].map((m) => m[1]).join("");
    const checksum = /^BLAKE3 of the whole slice: ([0-9a-f]{64})$/m.exec(block)?.[1];
    expect(address).toBe(addressOf(input));
    const start = Number(first);
    const end = Number(last) + 1;
    const slice = sliceOfBytes(tree, input, { groupBytes: G, start, end });
    expect(slice.length).toBe(Number(length));
    expect(toHex(slice).startsWith(hexLines)).toBe(true);
    expect(hexLines.length).toBe(2 * (SLICE_HEADER_BYTES + 2 * CV_BYTES));
    expect(tree.hashHex(slice)).toBe(checksum);
    // the server's slice for the same object and range, from its outboard, is the same bytes
    expect((await call(`/o/${address}`, { method: "PUT", body: input, headers: { "Content-Length": String(input.length) } }, SMALL)).status).toBeLessThan(300);
    const served = await call(`/o/${address}?proof=1`, { headers: { Range: `bytes=${start}-${end - 1}` } }, SMALL);
    expect(toHex(await bytesOf(served))).toBe(toHex(slice));
    expect(verifySlice(address!, slice, { start, end }).bytes).toEqual(input.subarray(start, end));
  });
});
