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

const TWO_32 = 2 ** 32;

/**
 * Compress one block: `cv` (8 words) and `block` (16 words) in, the 16-word state out (its first 8
 * words are the new chaining value; all 16 are the extended output of a root block). `out` may be
 * `cv`. Message words live in locals and are permuted between rounds, as in the spec.
 */
export function compress(cv: Uint32Array, block: Uint32Array, counter: number, blockLen: number, flags: number, out: Uint32Array): void {
  const c0 = cv[0]! | 0, c1 = cv[1]! | 0, c2 = cv[2]! | 0, c3 = cv[3]! | 0, c4 = cv[4]! | 0, c5 = cv[5]! | 0, c6 = cv[6]! | 0, c7 = cv[7]! | 0;
  let s0 = c0, s1 = c1, s2 = c2, s3 = c3, s4 = c4, s5 = c5, s6 = c6, s7 = c7;
  let s8 = 0x6a09e667 | 0, s9 = 0xbb67ae85 | 0, s10 = 0x3c6ef372 | 0, s11 = 0xa54ff53a | 0;
  let s12 = counter | 0, s13 = Math.floor(counter / TWO_32) | 0, s14 = blockLen | 0, s15 = flags | 0;
  let m0 = block[0]! | 0, m1 = block[1]! | 0, m2 = block[2]! | 0, m3 = block[3]! | 0, m4 = block[4]! | 0, m5 = block[5]! | 0, m6 = block[6]! | 0, m7 = block[7]! | 0;
  let m8 = block[8]! | 0, m9 = block[9]! | 0, m10 = block[10]! | 0, m11 = block[11]! | 0, m12 = block[12]! | 0, m13 = block[13]! | 0, m14 = block[14]! | 0, m15 = block[15]! | 0;
  for (let round = 0; ; round++) {
    s0 = (s0 + s4 + m0) | 0; s12 ^= s0; s12 = (s12 >>> 16) | (s12 << 16);
    s8 = (s8 + s12) | 0; s4 ^= s8; s4 = (s4 >>> 12) | (s4 << 20);
    s0 = (s0 + s4 + m1) | 0; s12 ^= s0; s12 = (s12 >>> 8) | (s12 << 24);
    s8 = (s8 + s12) | 0; s4 ^= s8; s4 = (s4 >>> 7) | (s4 << 25);
    s1 = (s1 + s5 + m2) | 0; s13 ^= s1; s13 = (s13 >>> 16) | (s13 << 16);
    s9 = (s9 + s13) | 0; s5 ^= s9; s5 = (s5 >>> 12) | (s5 << 20);
    s1 = (s1 + s5 + m3) | 0; s13 ^= s1; s13 = (s13 >>> 8) | (s13 << 24);
    s9 = (s9 + s13) | 0; s5 ^= s9; s5 = (s5 >>> 7) | (s5 << 25);
    s2 = (s2 + s6 + m4) | 0; s14 ^= s2; s14 = (s14 >>> 16) | (s14 << 16);
    s10 = (s10 + s14) | 0; s6 ^= s10; s6 = (s6 >>> 12) | (s6 << 20);
    s2 = (s2 + s6 + m5) | 0; s14 ^= s2; s14 = (s14 >>> 8) | (s14 << 24);
    s10 = (s10 + s14) | 0; s6 ^= s10; s6 = (s6 >>> 7) | (s6 << 25);
    s3 = (s3 + s7 + m6) | 0; s15 ^= s3; s15 = (s15 >>> 16) | (s15 << 16);
    s11 = (s11 + s15) | 0; s7 ^= s11; s7 = (s7 >>> 12) | (s7 << 20);
    s3 = (s3 + s7 + m7) | 0; s15 ^= s3; s15 = (s15 >>> 8) | (s15 << 24);
    s11 = (s11 + s15) | 0; s7 ^= s11; s7 = (s7 >>> 7) | (s7 << 25);
    s0 = (s0 + s5 + m8) | 0; s15 ^= s0; s15 = (s15 >>> 16) | (s15 << 16);
    s10 = (s10 + s15) | 0; s5 ^= s10; s5 = (s5 >>> 12) | (s5 << 20);
    s0 = (s0 + s5 + m9) | 0; s15 ^= s0; s15 = (s15 >>> 8) | (s15 << 24);
    s10 = (s10 + s15) | 0; s5 ^= s10; s5 = (s5 >>> 7) | (s5 << 25);
    s1 = (s1 + s6 + m10) | 0; s12 ^= s1; s12 = (s12 >>> 16) | (s12 << 16);
    s11 = (s11 + s12) | 0; s6 ^= s11; s6 = (s6 >>> 12) | (s6 << 20);
    s1 = (s1 + s6 + m11) | 0; s12 ^= s1; s12 = (s12 >>> 8) | (s12 << 24);
    s11 = (s11 + s12) | 0; s6 ^= s11; s6 = (s6 >>> 7) | (s6 << 25);
    s2 = (s2 + s7 + m12) | 0; s13 ^= s2; s13 = (s13 >>> 16) | (s13 << 16);
    s8 = (s8 + s13) | 0; s7 ^= s8; s7 = (s7 >>> 12) | (s7 << 20);
    s2 = (s2 + s7 + m13) | 0; s13 ^= s2; s13 = (s13 >>> 8) | (s13 << 24);
    s8 = (s8 + s13) | 0; s7 ^= s8; s7 = (s7 >>> 7) | (s7 << 25);
    s3 = (s3 + s4 + m14) | 0; s14 ^= s3; s14 = (s14 >>> 16) | (s14 << 16);
    s9 = (s9 + s14) | 0; s4 ^= s9; s4 = (s4 >>> 12) | (s4 << 20);
    s3 = (s3 + s4 + m15) | 0; s14 ^= s3; s14 = (s14 >>> 8) | (s14 << 24);
    s9 = (s9 + s14) | 0; s4 ^= s9; s4 = (s4 >>> 7) | (s4 << 25);
    if (round === 6) break;
    const p0 = m2, p1 = m6, p2 = m3, p3 = m10, p4 = m7, p5 = m0, p6 = m4, p7 = m13, p8 = m1, p9 = m11, p10 = m12, p11 = m5, p12 = m9, p13 = m14, p14 = m15, p15 = m8;
    m0 = p0; m1 = p1; m2 = p2; m3 = p3; m4 = p4; m5 = p5; m6 = p6; m7 = p7; m8 = p8; m9 = p9; m10 = p10; m11 = p11; m12 = p12; m13 = p13; m14 = p14; m15 = p15;
  }
  out[0] = s0 ^ s8; out[1] = s1 ^ s9; out[2] = s2 ^ s10; out[3] = s3 ^ s11;
  out[4] = s4 ^ s12; out[5] = s5 ^ s13; out[6] = s6 ^ s14; out[7] = s7 ^ s15;
  if (out.length >= 16) {
    out[8] = s8 ^ c0; out[9] = s9 ^ c1; out[10] = s10 ^ c2; out[11] = s11 ^ c3;
    out[12] = s12 ^ c4; out[13] = s13 ^ c5; out[14] = s14 ^ c6; out[15] = s15 ^ c7;
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
