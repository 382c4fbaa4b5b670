/**
 * @module BLAKE3's compression function in plain JS, with the constants of the spec. The SIMD
 * module does the bulk (whole chunks and parent levels, 4 lanes at a time); this scalar path does
 * the odd blocks around it: a partial last chunk, the root node and its extended output.
 */

export const IV = Uint32Array.of(0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19);
export const CHUNK_BYTES = 1024;
export const BLOCK_BYTES = 64;
export const OUT_BYTES = 32;
export const KEY_BYTES = 32;

/** Domain flags (BLAKE3 spec, table 3). */
export const CHUNK_START = 1;
export const CHUNK_END = 2;
export const PARENT = 4;
export const ROOT = 8;
export const KEYED_HASH = 16;
export const DERIVE_KEY_CONTEXT = 32;
export const DERIVE_KEY_MATERIAL = 64;

/** Message word order of each of the 7 rounds (the spec's permutation applied r times). */
const SCHEDULE: Uint8Array = (() => {
  const permutation = [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8];
  const out = new Uint8Array(7 * 16);
  let order = Array.from({ length: 16 }, (_, i) => i);
  for (let round = 0; round < 7; round++) {
    out.set(order, round * 16);
    order = permutation.map((p) => order[p]!);
  }
  return out;
})();

const TWO_32 = 2 ** 32;

/**
 * Compress one block: `cv` (8 words) and `block` (16 words) in, the 16-word state out (its first 8
 * words are the new chaining value; all 16 are the extended output of a root block).
 */
export function compress(cv: Uint32Array, block: Uint32Array, counter: number, blockLen: number, flags: number, out: Uint32Array): void {
  let s0 = cv[0]! | 0, s1 = cv[1]! | 0, s2 = cv[2]! | 0, s3 = cv[3]! | 0;
  let s4 = cv[4]! | 0, s5 = cv[5]! | 0, s6 = cv[6]! | 0, s7 = cv[7]! | 0;
  let s8 = IV[0]! | 0, s9 = IV[1]! | 0, s10 = IV[2]! | 0, s11 = IV[3]! | 0;
  let s12 = counter | 0, s13 = Math.floor(counter / TWO_32) | 0, s14 = blockLen | 0, s15 = flags | 0;
  const m = block;
  for (let r = 0; r < 7 * 16; r += 16) {
    const S = SCHEDULE;
    // columns
    s0 = (s0 + s4 + m[S[r]!]!) | 0; s12 ^= s0; s12 = (s12 >>> 16) | (s12 << 16);
    s8 = (s8 + s12) | 0; s4 ^= s8; s4 = (s4 >>> 12) | (s4 << 20);
    s0 = (s0 + s4 + m[S[r + 1]!]!) | 0; s12 ^= s0; s12 = (s12 >>> 8) | (s12 << 24);
    s8 = (s8 + s12) | 0; s4 ^= s8; s4 = (s4 >>> 7) | (s4 << 25);
    s1 = (s1 + s5 + m[S[r + 2]!]!) | 0; s13 ^= s1; s13 = (s13 >>> 16) | (s13 << 16);
    s9 = (s9 + s13) | 0; s5 ^= s9; s5 = (s5 >>> 12) | (s5 << 20);
    s1 = (s1 + s5 + m[S[r + 3]!]!) | 0; s13 ^= s1; s13 = (s13 >>> 8) | (s13 << 24);
    s9 = (s9 + s13) | 0; s5 ^= s9; s5 = (s5 >>> 7) | (s5 << 25);
    s2 = (s2 + s6 + m[S[r + 4]!]!) | 0; s14 ^= s2; s14 = (s14 >>> 16) | (s14 << 16);
    s10 = (s10 + s14) | 0; s6 ^= s10; s6 = (s6 >>> 12) | (s6 << 20);
    s2 = (s2 + s6 + m[S[r + 5]!]!) | 0; s14 ^= s2; s14 = (s14 >>> 8) | (s14 << 24);
    s10 = (s10 + s14) | 0; s6 ^= s10; s6 = (s6 >>> 7) | (s6 << 25);
    s3 = (s3 + s7 + m[S[r + 6]!]!) | 0; s15 ^= s3; s15 = (s15 >>> 16) | (s15 << 16);
    s11 = (s11 + s15) | 0; s7 ^= s11; s7 = (s7 >>> 12) | (s7 << 20);
    s3 = (s3 + s7 + m[S[r + 7]!]!) | 0; s15 ^= s3; s15 = (s15 >>> 8) | (s15 << 24);
    s11 = (s11 + s15) | 0; s7 ^= s11; s7 = (s7 >>> 7) | (s7 << 25);
    // diagonals
    s0 = (s0 + s5 + m[S[r + 8]!]!) | 0; s15 ^= s0; s15 = (s15 >>> 16) | (s15 << 16);
    s10 = (s10 + s15) | 0; s5 ^= s10; s5 = (s5 >>> 12) | (s5 << 20);
    s0 = (s0 + s5 + m[S[r + 9]!]!) | 0; s15 ^= s0; s15 = (s15 >>> 8) | (s15 << 24);
    s10 = (s10 + s15) | 0; s5 ^= s10; s5 = (s5 >>> 7) | (s5 << 25);
    s1 = (s1 + s6 + m[S[r + 10]!]!) | 0; s12 ^= s1; s12 = (s12 >>> 16) | (s12 << 16);
    s11 = (s11 + s12) | 0; s6 ^= s11; s6 = (s6 >>> 12) | (s6 << 20);
    s1 = (s1 + s6 + m[S[r + 11]!]!) | 0; s12 ^= s1; s12 = (s12 >>> 8) | (s12 << 24);
    s11 = (s11 + s12) | 0; s6 ^= s11; s6 = (s6 >>> 7) | (s6 << 25);
    s2 = (s2 + s7 + m[S[r + 12]!]!) | 0; s13 ^= s2; s13 = (s13 >>> 16) | (s13 << 16);
    s8 = (s8 + s13) | 0; s7 ^= s8; s7 = (s7 >>> 12) | (s7 << 20);
    s2 = (s2 + s7 + m[S[r + 13]!]!) | 0; s13 ^= s2; s13 = (s13 >>> 8) | (s13 << 24);
    s8 = (s8 + s13) | 0; s7 ^= s8; s7 = (s7 >>> 7) | (s7 << 25);
    s3 = (s3 + s4 + m[S[r + 14]!]!) | 0; s14 ^= s3; s14 = (s14 >>> 16) | (s14 << 16);
    s9 = (s9 + s14) | 0; s4 ^= s9; s4 = (s4 >>> 12) | (s4 << 20);
    s3 = (s3 + s4 + m[S[r + 15]!]!) | 0; s14 ^= s3; s14 = (s14 >>> 8) | (s14 << 24);
    s9 = (s9 + s14) | 0; s4 ^= s9; s4 = (s4 >>> 7) | (s4 << 25);
  }
  out[0] = s0 ^ s8; out[1] = s1 ^ s9; out[2] = s2 ^ s10; out[3] = s3 ^ s11;
  out[4] = s4 ^ s12; out[5] = s5 ^ s13; out[6] = s6 ^ s14; out[7] = s7 ^ s15;
  if (out.length >= 16) {
    out[8] = s8 ^ cv[0]!; out[9] = s9 ^ cv[1]!; out[10] = s10 ^ cv[2]!; out[11] = s11 ^ cv[3]!;
    out[12] = s12 ^ cv[4]!; out[13] = s13 ^ cv[5]!; out[14] = s14 ^ cv[6]!; out[15] = s15 ^ cv[7]!;
  }
}

/** Little-endian words of `bytes` (zero-padded to `words.length` words). */
export function readWords(bytes: Uint8Array, words: Uint32Array): void {
  words.fill(0);
  const n = bytes.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) words[i >> 2] = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
  for (; i < n; i++) words[i >> 2]! |= bytes[i]! << ((i & 3) * 8);
}

/** `count` little-endian bytes of `words` into `out` at `at`. */
export function writeWords(words: Uint32Array, out: Uint8Array, at: number, count: number): void {
  for (let i = 0; i < count; i++) out[at + i] = words[i >> 2]! >>> ((i & 3) * 8);
}
