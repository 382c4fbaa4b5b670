/**
 * @module BLAKE3's two node kinds, chunk and parent, computed one at a time in plain JS, and the
 * `Output` a node leaves before its last compression, from which both a chaining value and a root
 * hash of any length are taken.
 */
import { BLOCK_BYTES, CHUNK_END, CHUNK_START, PARENT, ROOT, compress, readWords, writeWords } from "./compress";

/** A node's last compression, not yet run: gives the node's CV, or the root's extended output. */
export class Output {
  constructor(
    readonly cv: Uint32Array,
    readonly block: Uint32Array,
    readonly counter: number,
    readonly blockLen: number,
    readonly flags: number,
  ) {}

  /** The non-root chaining value (8 words). */
  chainingValue(): Uint32Array {
    const out = new Uint32Array(8);
    compress(this.cv, this.block, this.counter, this.blockLen, this.flags, out);
    return out;
  }

  /** `length` bytes of root output: the root block compressed with counters 0, 1, 2, … */
  rootBytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    const words = new Uint32Array(16);
    for (let at = 0, t = 0; at < length; at += BLOCK_BYTES, t++) {
      compress(this.cv, this.block, t, this.blockLen, this.flags | ROOT, words);
      writeWords(words, out, at, Math.min(BLOCK_BYTES, length - at));
    }
    return out;
  }
}

/** The output of the chunk `bytes` (0..1024 bytes) at chunk index `counter`. */
export function chunkOutput(bytes: Uint8Array, counter: number, key: Uint32Array, flags: number): Output {
  const cv = key.slice();
  const block = new Uint32Array(16);
  const blocks = Math.max(1, Math.ceil(bytes.length / BLOCK_BYTES));
  for (let b = 0; b < blocks - 1; b++) {
    readWords(bytes.subarray(b * BLOCK_BYTES, (b + 1) * BLOCK_BYTES), block);
    compress(cv, block, counter, BLOCK_BYTES, flags | (b === 0 ? CHUNK_START : 0), cv);
  }
  const last = bytes.subarray((blocks - 1) * BLOCK_BYTES);
  readWords(last, block);
  return new Output(cv, block, counter, last.length, flags | CHUNK_END | (blocks === 1 ? CHUNK_START : 0));
}

/** The output of the parent node over two child CVs (8 words each). */
export function parentOutput(left: Uint32Array, right: Uint32Array, key: Uint32Array, flags: number): Output {
  const block = new Uint32Array(16);
  block.set(left);
  block.set(right, 8);
  return new Output(key, block, 0, BLOCK_BYTES, flags | PARENT);
}

export function wordsToBytes(words: Uint32Array): Uint8Array {
  const out = new Uint8Array(words.length * 4);
  writeWords(words, out, 0, out.length);
  return out;
}

export function bytesToWords(bytes: Uint8Array): Uint32Array {
  const out = new Uint32Array(Math.ceil(bytes.length / 4));
  readWords(bytes, out);
  return out;
}
