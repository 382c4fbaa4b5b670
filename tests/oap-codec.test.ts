import fc from "fast-check";
import { zstdCompressSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { decodeFrame, encodeFrame, FLAGS, FrameDecoder, HEADER_LEN, MAX_FRAME, OapError, type Frame } from "../shared/oap/codec";
import { framePayload } from "../shared/oap/compression";
import { hexToBytes } from "../shared/oap/json";
import { ZEROS_64MIB_ZST_B64 } from "./fixtures/zstd-fixtures";
import { compressibleBytes } from "./helpers";

const frame = (over: Partial<Frame> = {}): Frame => ({ ver: 1, flags: FLAGS.REQ, code: 0, appProtoId: 0, tenantId: 0n, corrId: 0n, cap: new Uint8Array(0), payload: new Uint8Array(0), ...over });
const kindOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error instanceof OapError ? error.kind : `other: ${error}`;
  }
  return "none";
};

/** A header written byte by byte from the spec table (DESIGN.md §7), not by the encoder. */
function handHeader({ len, ver = 1, flags = 0x01, code = 0, app = 0, capLen = 0 }: { len: number; ver?: number; flags?: number; code?: number; app?: number; capLen?: number }) {
  const h = new Uint8Array(HEADER_LEN);
  h.set([len >>> 24, (len >>> 16) & 255, (len >>> 8) & 255, len & 255], 0);
  h.set([ver >> 8, ver & 255, flags >> 8, flags & 255, code >> 8, code & 255, app >> 8, app & 255], 4);
  h.set([capLen >> 8, capLen & 255], 28);
  return h;
}

describe("OAP/1 codec: vectors from the spec", () => {
  it("encodes a HELLO request with the header laid out by hand", () => {
    const payload = new TextEncoder().encode('{"ua":"ron-sdk/0.1"}');
    const bytes = encodeFrame(frame({ flags: FLAGS.REQ, corrId: 7n, payload }));
    const expected = handHeader({ len: HEADER_LEN + payload.length, flags: 0x01 });
    expected.set([0, 0, 0, 0, 0, 0, 0, 7], 30); // corr_id u64 big-endian
    expect([...bytes.subarray(0, HEADER_LEN)]).toEqual([...expected]);
    expect(new TextDecoder().decode(bytes.subarray(HEADER_LEN))).toBe('{"ua":"ron-sdk/0.1"}');
  });

  it("puts tenant_id (u128) and corr_id (u64) big-endian at offsets 12 and 30", () => {
    const bytes = encodeFrame(frame({ tenantId: 0x0102030405060708090a0b0c0d0e0f10n, corrId: 0x1112131415161718n }));
    expect([...bytes.subarray(12, 28)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    expect([...bytes.subarray(30, 38)]).toEqual([0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18]);
  });

  it("decodes a RESP 200 START frame with a capability", () => {
    const bytes = new Uint8Array([...handHeader({ len: HEADER_LEN + 3 + 2, flags: FLAGS.RESP | FLAGS.START, code: 200, app: 9, capLen: 3 }), 0xca, 0xfe, 0x01, 0x68, 0x69]);
    const result = decodeFrame(bytes);
    if ("needMore" in result) throw new Error("expected a frame");
    expect(result.consumed).toBe(bytes.length);
    expect(result.frame).toMatchObject({ flags: 0x0a, code: 200, appProtoId: 9 });
    expect([...result.frame.cap]).toEqual([0xca, 0xfe, 0x01]);
    expect(new TextDecoder().decode(result.frame.payload)).toBe("hi");
  });

  it("needs more below 38 bytes and below len, without error", () => {
    expect(decodeFrame(new Uint8Array(37))).toEqual({ needMore: true });
    expect(decodeFrame(handHeader({ len: 50 }))).toEqual({ needMore: true });
  });

  it.each([
    ["BadFlags", handHeader({ len: 40, flags: 0x0101 })],
    ["BadVersion", handHeader({ len: 40, ver: 2 })],
    ["FrameTooLarge", handHeader({ len: 0 })],
    ["FrameTooLarge", handHeader({ len: MAX_FRAME + 1 })],
    ["CapOnNonStart", handHeader({ len: 60, capLen: 4, flags: FLAGS.REQ })],
    ["TruncatedHeader", handHeader({ len: 20 })],
    ["CapOutOfBounds", new Uint8Array([...handHeader({ len: 40, capLen: 5, flags: FLAGS.START }), 0, 0])],
  ] as const)("refuses %s", (kind, bytes) => {
    expect(kindOf(() => decodeFrame(bytes))).toBe(kind);
  });

  it("checks flags before version before length, and refuses an oversize len before its body arrives", () => {
    expect(kindOf(() => decodeFrame(handHeader({ len: 0, ver: 9, flags: 0xff00 })))).toBe("BadFlags");
    expect(kindOf(() => decodeFrame(handHeader({ len: 0, ver: 9 })))).toBe("BadVersion");
    expect(kindOf(() => decodeFrame(handHeader({ len: 2_000_000 })))).toBe("FrameTooLarge"); // 38 bytes of a 2 MB frame
  });

  it("encodes the largest payload without a cap and refuses one byte more; refuses caps over 65,535", () => {
    expect(encodeFrame(frame({ payload: new Uint8Array(MAX_FRAME - HEADER_LEN) })).length).toBe(MAX_FRAME);
    expect(kindOf(() => encodeFrame(frame({ payload: new Uint8Array(MAX_FRAME - HEADER_LEN + 1) })))).toBe("FrameTooLarge");
    expect(kindOf(() => encodeFrame(frame({ flags: FLAGS.START, cap: new Uint8Array(65_536) })))).toBe("CapOutOfBounds");
    expect(kindOf(() => encodeFrame(frame({ flags: FLAGS.REQ, cap: new Uint8Array(1) })))).toBe("CapOnNonStart");
  });

  it("consumes exactly the declared len bytes of a truncated frame", () => {
    const decoder = new FrameDecoder();
    const good = encodeFrame(frame({ payload: new Uint8Array([1]) }));
    expect(kindOf(() => decoder.push(new Uint8Array([...handHeader({ len: 20 }), ...good])))).toBe("TruncatedHeader");
    expect(decoder.buffered).toBe(HEADER_LEN - 20 + good.length);
  });
});

const frameArbitrary = fc
  .record({
    flags: fc.integer({ min: 0, max: 0xff }),
    code: fc.integer({ min: 0, max: 0xffff }),
    appProtoId: fc.integer({ min: 0, max: 0xffff }),
    tenantId: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
    corrId: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    cap: fc.uint8Array({ maxLength: 64 }),
    payload: fc.uint8Array({ maxLength: 2048 }),
  })
  .map((r) => ({ ver: 1, ...r, flags: r.cap.length ? r.flags | FLAGS.START : r.flags }) as Frame);

describe("OAP/1 codec: properties", () => {
  it("decodes what it encodes", () => {
    fc.assert(
      fc.property(frameArbitrary, (f) => {
        const result = decodeFrame(encodeFrame(f));
        if ("needMore" in result) return false;
        expect(result.frame).toEqual(f);
        return true;
      }),
    );
  });

  it("throws nothing but its own errors on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          new FrameDecoder().push(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(OapError);
        }
      }),
    );
  });

  it("decodes the same frames however the stream is split", () => {
    fc.assert(
      fc.property(fc.array(frameArbitrary, { minLength: 1, maxLength: 5 }), fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 40 }), (frames, cuts) => {
        const stream = new Uint8Array(frames.reduce((n, f) => n + encodeFrame(f).length, 0));
        let at = 0;
        for (const f of frames) {
          const e = encodeFrame(f);
          stream.set(e, at);
          at += e.length;
        }
        const decoder = new FrameDecoder();
        const out: Frame[] = [];
        let pos = 0;
        for (const cut of cuts) {
          out.push(...decoder.push(stream.subarray(pos, Math.min(stream.length, pos + cut))));
          pos = Math.min(stream.length, pos + cut);
        }
        out.push(...decoder.push(stream.subarray(pos)));
        expect(out).toEqual(frames);
      }),
      { numRuns: 100 },
    );
  });
});

describe("OAP/1 COMP payloads", () => {
  it("inflates zstd payloads", async () => {
    const plain = compressibleBytes(5000); // compresses about 3x: under the 10x bound
    const payload = new Uint8Array(zstdCompressSync(plain));
    expect(await framePayload({ ...frame(), flags: FLAGS.EVENT | FLAGS.COMP, payload })).toEqual(plain);
    expect(await framePayload({ ...frame(), payload: plain })).toBe(plain); // no COMP: as is
  });

  it("refuses a zstd bomb at 10x its size (FrameTooLarge) and corrupt data", async () => {
    const bomb = Uint8Array.from(atob(ZEROS_64MIB_ZST_B64), (c) => c.charCodeAt(0));
    await expect(framePayload({ ...frame(), flags: FLAGS.COMP, payload: bomb })).rejects.toMatchObject({ kind: "FrameTooLarge" });
    await expect(framePayload({ ...frame(), flags: FLAGS.COMP, payload: hexToBytes("00112233445566778899") })).rejects.toThrow(/corrupt COMP/);
  });
});
