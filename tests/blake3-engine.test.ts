import { blake3 as nobleBlake3 } from "@noble/hashes/blake3.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { blake3Tree, Blake3TreeEngine, toHex } from "../shared/blake3";
import { blake3HashWasm } from "../shared/blake3/hash-wasm";
import blake3SimdWasm from "../shared/blake3/blake3-simd.wasm";
import { ScalarLanes } from "../shared/blake3/lanes";
import { SimdLanes } from "../shared/blake3/simd-lanes";
import vectors from "./fixtures/blake3/test_vectors.json";

/** The official vectors' input: byte i is i mod 251. */
const vectorInput = (length: number) => Uint8Array.from({ length }, (_, i) => i % 251);
const KEY = new TextEncoder().encode(vectors.key);
const CONTEXT = new TextEncoder().encode(vectors.context_string);
const KIB = 1024;

function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let at = 0; at < length; at += 65536) crypto.getRandomValues(out.subarray(at, Math.min(length, at + 65536)));
  return out;
}

/** Hash of an input given as the CVs of its equal-size aligned groups, merged left-heavy, root at the top. */
function mergeGroups(tree: ReturnType<typeof blake3Tree>, cvs: Uint8Array[], lo = 0, hi = cvs.length, isRoot = true): Uint8Array {
  if (hi - lo === 1) return cvs[lo]!;
  const leftCount = 2 ** Math.floor(Math.log2(hi - lo - 1));
  return tree.parentCV(mergeGroups(tree, cvs, lo, lo + leftCount, false), mergeGroups(tree, cvs, lo + leftCount, hi, false), isRoot);
}

const ENGINES: [string, () => Blake3TreeEngine][] = [
  ["blake3Tree() (production)", () => blake3Tree()],
  ["scalar JS lanes", () => new Blake3TreeEngine(new ScalarLanes())],
];

describe.each(ENGINES)("BLAKE3 tree engine inside workerd: %s", (_name, engineOf) => {
  const engine = engineOf();
  const outputBytes = vectors.cases[0]!.hash.length / 2;

  it.each(vectors.cases)("matches all three official outputs (full length) for $input_len bytes", ({ input_len, hash, keyed_hash, derive_key }) => {
    const input = vectorInput(input_len);
    expect(toHex(engine.hash(input, outputBytes))).toBe(hash);
    expect(toHex(engine.keyedHash(KEY, input, outputBytes))).toBe(keyed_hash);
    expect(toHex(engine.deriveKey(vectors.context_string, input, outputBytes))).toBe(derive_key);
    // streaming, split once in the middle
    const half = input_len >> 1;
    expect(toHex(engine.createHasher().update(input.subarray(0, half)).update(input.subarray(half)).digest(outputBytes))).toBe(hash);
    expect(toHex(engine.createHasher(KEY).update(input.subarray(0, half)).update(input.subarray(half)).digest(outputBytes))).toBe(keyed_hash);
    expect(toHex(engine.createDeriveKeyHasher(vectors.context_string).update(input).digest(outputBytes))).toBe(derive_key);
    // the tree API over the whole input is the root hash
    expect(toHex(engine.subtreeCV(input, 0, true))).toBe(hash.slice(0, 64));
  });

  it.each([0, 1, 63, 64, 65, 1023, 1024, 1025, 2047, 3072, 4095, 4096, 4097, 5 * KIB + 3, 16 * KIB, 64 * KIB - 1, 64 * KIB, 64 * KIB + 1, 65 * KIB, 100_000, 128 * KIB + 1, 1024 * KIB, 1024 * KIB + 7, 3 * 1024 * KIB + 1234])(
    "agrees with hash-wasm and @noble/hashes on %i random bytes (hash, keyed, derive-key, 100-byte XOF)",
    (length) => {
      const data = randomBytes(length);
      const key = randomBytes(32);
      expect(toHex(engine.hash(data))).toBe(blake3HashWasm().hashHex(data));
      expect(toHex(engine.hash(data))).toBe(toHex(nobleBlake3(data)));
      expect(toHex(engine.keyedHash(key, data))).toBe(blake3HashWasm().createHasher(key).update(data).digestHex());
      expect(toHex(engine.deriveKey(vectors.context_string, data))).toBe(toHex(nobleBlake3(data, { context: CONTEXT })));
      expect(toHex(engine.hash(data, 100))).toBe(toHex(nobleBlake3(data, { dkLen: 100 })));
    },
  );

  it("gives the same digest wherever the input is split into updates (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200_000 }), fc.array(fc.integer({ min: 0, max: 200_000 }), { maxLength: 8 }), fc.boolean(), (length, cuts, keyed) => {
        const data = randomBytes(length);
        const hasher = keyed ? engine.createHasher(KEY) : engine.createHasher();
        let at = 0;
        for (const cut of [...cuts.map((c) => c % (length + 1))].sort((a, b) => a - b)) {
          hasher.update(data.subarray(at, cut));
          at = cut;
        }
        hasher.update(data.subarray(at));
        const whole = keyed ? engine.keyedHash(KEY, data) : engine.hash(data);
        expect(toHex(hasher.digest())).toBe(toHex(whole));
        expect(toHex(whole)).toBe(toHex(keyed ? nobleBlake3(data, { key: KEY }) : nobleBlake3(data)));
      }),
      { numRuns: 40 },
    );
  });

  it("merges subtree CVs of aligned power-of-two groups, at their chunk counters, into the whole hash (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300_000 }), fc.integer({ min: 0, max: 7 }), (length, log2Chunks) => {
        const data = randomBytes(length);
        const group = KIB * 2 ** log2Chunks;
        const expected = toHex(nobleBlake3(data));
        expect(toHex(engine.subtreeCV(data, 0, true))).toBe(expected);
        if (length <= group) return; // one group: the root itself
        const cvs: Uint8Array[] = [];
        for (let at = 0; at < length; at += group) cvs.push(engine.subtreeCV(data.subarray(at, at + group), at / KIB, false));
        expect(toHex(mergeGroups(engine, cvs))).toBe(expected);
      }),
      { numRuns: 60 },
    );
  });

  it("computes a subtree at a nonzero chunk counter as the matching part of the whole tree", () => {
    // 16 chunks: the right half (chunks 8..15) is a subtree at counter 8; its CV with the left half's gives the root
    const data = randomBytes(16 * KIB);
    const left = engine.subtreeCV(data.subarray(0, 8 * KIB), 0, false);
    const right = engine.subtreeCV(data.subarray(8 * KIB), 8, false);
    expect(toHex(engine.parentCV(left, right, true))).toBe(toHex(nobleBlake3(data)));
    // the same bytes at another counter are another node
    expect(toHex(engine.subtreeCV(data.subarray(8 * KIB), 16, false))).not.toBe(toHex(right));
  });

  it("refuses misuse with clear errors", () => {
    expect(() => engine.createHasher(new Uint8Array(31))).toThrow(/32 bytes/);
    expect(() => engine.keyedHash(new Uint8Array(33), new Uint8Array(1))).toThrow(/32 bytes/);
    expect(() => engine.hash(new Uint8Array(1), 0)).toThrow(/output length/);
    expect(() => engine.subtreeCV(new Uint8Array(0), 0, false)).toThrow(/at least one byte/);
    expect(() => engine.subtreeCV(new Uint8Array(3 * KIB), 2, false)).toThrow(/multiple of 4 chunks/);
    expect(() => engine.subtreeCV(new Uint8Array(KIB), 1, true)).toThrow(/root subtree starts at chunk 0/);
    expect(() => engine.parentCV(new Uint8Array(32), new Uint8Array(31), false)).toThrow(/32 bytes/);
    const hasher = engine.createHasher();
    hasher.digest();
    expect(() => hasher.update(new Uint8Array(1))).toThrow(/finalised/);
  });
});

describe("BLAKE3 SIMD lanes against the scalar JS lanes", () => {
  const scalar = new Blake3TreeEngine(new ScalarLanes());

  it.each([0, 5, 2 ** 32 - 3, 2 ** 32 - 1, 2 ** 33 - 6, 2 ** 40 + 2 ** 32 - 2])(
    "hashes runs of chunks and parent levels alike at chunk counter %i, across the 32-bit counter carry",
    (counter) => {
      const simd = new SimdLanes(blake3SimdWasm);
      const reference = new ScalarLanes();
      const key = Uint32Array.from(randomBytes(32)).map((b) => b * 0x01010101);
      for (const chunks of [1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 64]) {
        const data = randomBytes(chunks * KIB);
        simd.chunks(data, counter, key, 16);
        reference.chunks(data, counter, key, 16);
        expect(toHex(simd.cvs.subarray(0, 32 * chunks)), `${chunks} chunks`).toBe(toHex(reference.cvs.subarray(0, 32 * chunks)));
        // merge the CVs just made: odd counts leave the last slot alone
        simd.parents(chunks >> 1, key, 16);
        reference.parents(chunks >> 1, key, 16);
        expect(toHex(simd.cvs.subarray(0, 32 * chunks)), `${chunks >> 1} parents`).toBe(toHex(reference.cvs.subarray(0, 32 * chunks)));
      }
    },
  );

  it.each([0, 255, 256, 257, 2 ** 32 - 256, 2 ** 32 - 2, 2 ** 32, 2 ** 40 + 2 ** 20])(
    "gives the same subtree CVs at chunk counter %i, across the 32-bit counter carry",
    (counter) => {
      for (const chunks of [1, 2, 3, 4, 5, 7, 64, 256]) {
        if (counter % 2 ** Math.ceil(Math.log2(chunks)) !== 0) continue;
        const data = randomBytes(chunks * KIB - (chunks > 1 ? 100 : 0));
        expect(toHex(blake3Tree().subtreeCV(data, counter, false)), `${chunks} chunks`).toBe(toHex(scalar.subtreeCV(data, counter, false)));
      }
    },
  );

  it("gives the same keyed and derive-key outputs on random lengths (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 600_000 }), fc.integer({ min: 1, max: 300 }), (length, outputLength) => {
        const data = randomBytes(length);
        const key = randomBytes(32);
        expect(toHex(blake3Tree().keyedHash(key, data, outputLength))).toBe(toHex(scalar.keyedHash(key, data, outputLength)));
        expect(toHex(blake3Tree().deriveKey("ron-workers test", data, outputLength))).toBe(toHex(scalar.deriveKey("ron-workers test", data, outputLength)));
      }),
      { numRuns: 25 },
    );
  });
});
