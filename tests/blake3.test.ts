import { blake3 as nobleBlake3 } from "@noble/hashes/blake3.js";
import { describe, expect, it } from "vitest";
import { blake3, toHex } from "../shared/blake3";
import vectors from "./fixtures/blake3-vectors.json";

/** The official vectors' input: byte i is i mod 251. */
const vectorInput = (length: number) => Uint8Array.from({ length }, (_, i) => i % 251);
const KEY = new TextEncoder().encode(vectors.key);

function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let at = 0; at < length; at += 65536) crypto.getRandomValues(out.subarray(at, Math.min(length, at + 65536)));
  return out;
}

describe("BLAKE3 inside workerd (blake3(): the SIMD engine, imported as a compiled WASM module)", () => {
  it.each(vectors.cases)("matches the official hash for $input_len bytes", ({ input_len, hash }) => {
    expect(blake3().hashHex(vectorInput(input_len))).toBe(hash);
  });

  it.each(vectors.cases)("matches the official keyed hash for $input_len bytes", ({ input_len, keyed_hash }) => {
    expect(blake3().createHasher(KEY).update(vectorInput(input_len)).digestHex()).toBe(keyed_hash);
  });

  it("produces the official 131-byte extended output", () => {
    expect(toHex(blake3().hash(vectorInput(1025), 131))).toBe(vectors.xof_1025_131);
  });

  it.each([0, 1, 1023, 1024, 1025, 16383, 16384, 16385, 65537, 1024 * 1024 + 7])(
    "agrees with @noble/hashes on %i random bytes",
    (length) => {
      const data = randomBytes(length);
      expect(blake3().hashHex(data)).toBe(toHex(nobleBlake3(data)));
    },
  );

  it("gives the same digest however the input is split into updates", () => {
    const data = randomBytes(300_000);
    const expected = toHex(nobleBlake3(data));
    for (let round = 0; round < 5; round++) {
      const hasher = blake3().createHasher();
      let at = 0;
      while (at < data.length) {
        const size = Math.floor(Math.random() * 40_000);
        hasher.update(data.subarray(at, at + size));
        at += size;
      }
      expect(hasher.digestHex()).toBe(expected);
    }
  });

  it("keeps 50 interleaved streams apart while they await between chunks", async () => {
    const inputs = Array.from({ length: 50 }, (_, i) => randomBytes(20_000 + i * 997));
    const digests = await Promise.all(
      inputs.map(async (data, i) => {
        const hasher = blake3().createHasher(i % 2 ? KEY : undefined);
        for (let at = 0; at < data.length; at += 1500 + i) {
          hasher.update(data.subarray(at, at + 1500 + i));
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
        }
        return hasher.digestHex();
      }),
    );
    digests.forEach((digest, i) => {
      const expected = i % 2 ? toHex(nobleBlake3(inputs[i]!, { key: KEY })) : toHex(nobleBlake3(inputs[i]!));
      expect(digest).toBe(expected);
    });
  });

  it("refuses bad keys, bad output lengths and reuse after digest", () => {
    expect(() => blake3().createHasher(new Uint8Array(31))).toThrow(/32 bytes/);
    expect(() => blake3().createHasher().digest(0)).toThrow(/output length/);
    const hasher = blake3().createHasher();
    hasher.digest();
    expect(() => hasher.update(new Uint8Array(1))).toThrow(/finalised/);
  });
});
