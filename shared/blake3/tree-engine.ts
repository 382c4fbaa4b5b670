/**
 * @module BLAKE3 with its tree exposed, over any `Blake3Lanes` (the SIMD module in production):
 * one-shot, streaming, keyed, derive-key and extendable output, plus the chaining values of
 * subtrees and parents that a verified store computes piecewise (`Blake3Tree`).
 *
 * All state lives in JS; the lanes are only used inside synchronous calls, so any number of
 * hashers can interleave on one engine without swapping state.
 */
import { CHUNK_BYTES, DERIVE_KEY_CONTEXT, DERIVE_KEY_MATERIAL, IV, KEYED_HASH, KEY_BYTES, OUT_BYTES, readWords } from "./compress";
import type { Blake3Lanes } from "./lanes";
import { Output, bytesToWords, chunkOutput, parentOutput, wordsToBytes } from "./nodes";

export interface Blake3Tree {
  /** CV (32 bytes) of the subtree over `bytes`, whose first byte is at chunk `chunkCounter` (1 chunk = 1024 bytes). The subtree is complete except that it may end early (the last subtree of an input); `chunkCounter` is a multiple of the subtree's chunk count rounded up to a power of two. With `isRoot` true, returns the root hash instead (32 bytes): then chunkCounter is 0 and `bytes` is the whole input (may be empty). */
  subtreeCV(bytes: Uint8Array, chunkCounter: number, isRoot: boolean): Uint8Array;
  /** CV of the parent node over two child CVs; with isRoot, the root hash. */
  parentCV(left: Uint8Array, right: Uint8Array, isRoot: boolean): Uint8Array;
}

/**
 * Most bytes a streaming hasher buffers (16 chunks: one aligned subtree, 4 SIMD passes, per flush);
 * larger updates are hashed in place. Kept small because every open stream holds one.
 */
const STREAM_BUFFER_BYTES = 16 * CHUNK_BYTES;
const MAX_OUTPUT_BYTES = 2 ** 30;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += HEX[b];
  return out;
}

function checkOutputLength(length: number): void {
  if (!Number.isInteger(length) || length < 1 || length > MAX_OUTPUT_BYTES) {
    throw new RangeError(`BLAKE3 output length must be 1..${MAX_OUTPUT_BYTES}, got ${length}`);
  }
}

function keyWords(key: Uint8Array): Uint32Array {
  if (key.length !== KEY_BYTES) throw new RangeError(`BLAKE3 key must be ${KEY_BYTES} bytes, got ${key.length}`);
  return bytesToWords(key);
}

/** Largest power of two ≤ n (n ≥ 1, up to 2^53). */
function floorPow2(n: number): number {
  return 2 ** Math.floor(Math.log2(n));
}

function popcount(n: number): number {
  let count = 0;
  for (let word of [n >>> 0, Math.floor(n / 2 ** 32)]) {
    for (; word !== 0; word &= word - 1) count++;
  }
  return count;
}

export class Blake3TreeEngine implements Blake3Tree {
  constructor(private readonly lanes: Blake3Lanes) {}

  /** One-shot hash of `data`, `outputLength` bytes (default 32). */
  hash(data: Uint8Array, outputLength = OUT_BYTES): Uint8Array {
    checkOutputLength(outputLength);
    return this.rootOutput(data, IV, 0).rootBytes(outputLength);
  }

  hashHex(data: Uint8Array): string {
    return toHex(this.hash(data));
  }

  /** BLAKE3's keyed hash (a MAC) under a 32-byte key. */
  keyedHash(key: Uint8Array, data: Uint8Array, outputLength = OUT_BYTES): Uint8Array {
    checkOutputLength(outputLength);
    return this.rootOutput(data, keyWords(key), KEYED_HASH).rootBytes(outputLength);
  }

  /** BLAKE3's key derivation: `outputLength` bytes of key for `context` (a hard-coded, unique string) from `material`. */
  deriveKey(context: string, material: Uint8Array, outputLength = OUT_BYTES): Uint8Array {
    checkOutputLength(outputLength);
    return this.rootOutput(material, this.contextKey(context), DERIVE_KEY_MATERIAL).rootBytes(outputLength);
  }

  /** A streaming hasher; with `key` (32 bytes) it computes the keyed hash. */
  createHasher(key?: Uint8Array): Blake3StreamHasher {
    return key ? new Blake3StreamHasher(this, keyWords(key), KEYED_HASH) : new Blake3StreamHasher(this, IV, 0);
  }

  /** A streaming key derivation for `context`. */
  createDeriveKeyHasher(context: string): Blake3StreamHasher {
    return new Blake3StreamHasher(this, this.contextKey(context), DERIVE_KEY_MATERIAL);
  }

  subtreeCV(bytes: Uint8Array, chunkCounter: number, isRoot: boolean): Uint8Array {
    if (isRoot) {
      if (chunkCounter !== 0) throw new RangeError(`a root subtree starts at chunk 0, got ${chunkCounter}`);
      return this.rootOutput(bytes, IV, 0).rootBytes(OUT_BYTES);
    }
    if (!Number.isSafeInteger(chunkCounter) || chunkCounter < 0) throw new RangeError(`chunk counter must be a non-negative integer, got ${chunkCounter}`);
    if (bytes.length === 0) throw new RangeError("a non-root subtree has at least one byte");
    const span = 2 ** Math.ceil(Math.log2(Math.ceil(bytes.length / CHUNK_BYTES)));
    if (chunkCounter % span !== 0) throw new RangeError(`a subtree of ${span} chunks must start at a multiple of ${span} chunks, got ${chunkCounter}`);
    return wordsToBytes(this.subtreeWords(bytes, chunkCounter, IV, 0));
  }

  parentCV(left: Uint8Array, right: Uint8Array, isRoot: boolean): Uint8Array {
    if (left.length !== OUT_BYTES || right.length !== OUT_BYTES) throw new RangeError(`child CVs must be ${OUT_BYTES} bytes, got ${left.length} and ${right.length}`);
    const output = parentOutput(bytesToWords(left), bytesToWords(right), IV, 0);
    return isRoot ? output.rootBytes(OUT_BYTES) : wordsToBytes(output.chainingValue());
  }

  /** @internal The root node's output of the whole input `bytes`. */
  rootOutput(bytes: Uint8Array, key: Uint32Array, flags: number): Output {
    if (bytes.length <= CHUNK_BYTES) return chunkOutput(bytes, 0, key, flags);
    const [left, right] = this.topPair(bytes, 0, key, flags);
    return parentOutput(left, right, key, flags);
  }

  /** @internal Non-root CV (8 words) of the subtree over `bytes` (≥ 1 byte) starting at chunk `counter`. */
  subtreeWords(bytes: Uint8Array, counter: number, key: Uint32Array, flags: number): Uint32Array {
    if (bytes.length <= CHUNK_BYTES) return chunkOutput(bytes, counter, key, flags).chainingValue();
    const [left, right] = this.topPair(bytes, counter, key, flags);
    return parentOutput(left, right, key, flags).chainingValue();
  }

  /** The two children of the top node of a subtree of two or more chunks. */
  private topPair(bytes: Uint8Array, counter: number, key: Uint32Array, flags: number): [Uint32Array, Uint32Array] {
    const chunks = Math.ceil(bytes.length / CHUNK_BYTES);
    if (chunks > this.lanes.maxChunks) {
      // left-heavy: the left subtree takes the largest power of two of chunks that leaves some on the right
      const leftChunks = floorPow2(chunks - 1);
      const split = leftChunks * CHUNK_BYTES;
      return [this.subtreeWords(bytes.subarray(0, split), counter, key, flags), this.subtreeWords(bytes.subarray(split), counter + leftChunks, key, flags)];
    }
    const whole = Math.floor(bytes.length / CHUNK_BYTES);
    const cvs = this.lanes.cvs;
    this.lanes.chunks(bytes.subarray(0, whole * CHUNK_BYTES), counter, key, flags);
    if (whole < chunks) {
      const last = chunkOutput(bytes.subarray(whole * CHUNK_BYTES), counter + whole, key, flags).chainingValue();
      cvs.set(wordsToBytes(last), whole * OUT_BYTES);
    }
    // merge level by level; an odd CV out at the end of a level moves up unchanged (left-heavy tree)
    let count = chunks;
    while (count > 2) {
      const pairs = count >> 1;
      this.lanes.parents(pairs, key, flags);
      if (count & 1) cvs.copyWithin(pairs * OUT_BYTES, (count - 1) * OUT_BYTES, count * OUT_BYTES);
      count = pairs + (count & 1);
    }
    const left = new Uint32Array(8);
    const right = new Uint32Array(8);
    readWords(cvs.subarray(0, OUT_BYTES), left);
    readWords(cvs.subarray(OUT_BYTES, 2 * OUT_BYTES), right);
    return [left, right];
  }

  private contextKey(context: string): Uint32Array {
    const bytes = new TextEncoder().encode(context);
    return bytesToWords(this.rootOutput(bytes, IV, DERIVE_KEY_CONTEXT).rootBytes(KEY_BYTES));
  }
}

/** A streaming BLAKE3 computation; independent of every other hasher on the same engine. */
export class Blake3StreamHasher {
  /** Grows on demand up to STREAM_BUFFER_BYTES, so hashing a short input allocates little. */
  #buffer = new Uint8Array(0);
  #buffered = 0;
  /** Chunks already hashed into `#stack`. */
  #counter = 0;
  /** CVs of finished subtrees, left to right; merged lazily, as the last one may belong to the root. */
  readonly #stack: Uint32Array[] = [];
  #done = false;

  /** @internal — use `Blake3TreeEngine.createHasher`. */
  constructor(
    private readonly engine: Blake3TreeEngine,
    private readonly key: Uint32Array,
    private readonly flags: number,
  ) {}

  update(data: Uint8Array): this {
    if (this.#done) throw new Error("BLAKE3 hasher already finalised");
    let at = 0;
    while (at < data.length) {
      // more input follows, so a full buffer holds no part of the last chunk
      if (this.#buffered === STREAM_BUFFER_BYTES) this.#commit(this.#buffer);
      if (this.#buffered === 0 && data.length - at > STREAM_BUFFER_BYTES) {
        // hash straight from `data`, keeping back at least one byte for the last chunk
        const whole = Math.floor((data.length - at - 1) / CHUNK_BYTES) * CHUNK_BYTES;
        this.#commit(data.subarray(at, at + whole));
        at += whole;
        continue;
      }
      const take = Math.min(STREAM_BUFFER_BYTES - this.#buffered, data.length - at);
      if (this.#buffered + take > this.#buffer.length) this.#grow(this.#buffered + take);
      this.#buffer.set(data.subarray(at, at + take), this.#buffered);
      this.#buffered += take;
      at += take;
    }
    return this;
  }

  /** Finalise; `outputLength` bytes of BLAKE3's extendable output (default 32). */
  digest(outputLength = OUT_BYTES): Uint8Array {
    if (this.#done) throw new Error("BLAKE3 hasher already finalised");
    checkOutputLength(outputLength);
    this.#done = true;
    const pending = this.#buffer.subarray(0, this.#buffered);
    if (this.#stack.length === 0) return this.engine.rootOutput(pending, this.key, this.flags).rootBytes(outputLength);
    // the stack is non-empty only once input followed, so at least one byte is pending
    const whole = Math.floor((pending.length - 1) / CHUNK_BYTES) * CHUNK_BYTES;
    if (whole > 0) this.#commit(pending.subarray(0, whole));
    this.#mergeStack(this.#counter);
    let output = chunkOutput(pending.subarray(whole), this.#counter, this.key, this.flags);
    for (let i = this.#stack.length - 1; i >= 0; i--) output = parentOutput(this.#stack[i]!, output.chainingValue(), this.key, this.flags);
    return output.rootBytes(outputLength);
  }

  digestHex(outputLength = OUT_BYTES): string {
    return toHex(this.digest(outputLength));
  }

  #grow(needed: number): void {
    const grown = new Uint8Array(Math.min(STREAM_BUFFER_BYTES, Math.max(needed, 2 * this.#buffer.length)));
    grown.set(this.#buffer.subarray(0, this.#buffered));
    this.#buffer = grown;
  }

  /** Hash whole chunks (none of them the input's last) as aligned subtrees onto the stack; empties the buffer. */
  #commit(bytes: Uint8Array): void {
    let counter = this.#counter;
    for (let at = 0; at < bytes.length; ) {
      let size = floorPow2((bytes.length - at) / CHUNK_BYTES);
      while (counter % size !== 0) size /= 2;
      const cv = this.engine.subtreeWords(bytes.subarray(at, at + size * CHUNK_BYTES), counter, this.key, this.flags);
      this.#mergeStack(counter);
      this.#stack.push(cv);
      counter += size;
      at += size * CHUNK_BYTES;
    }
    this.#counter = counter;
    this.#buffered = 0;
  }

  /** Merge finished subtrees until the stack holds one CV per set bit of `chunks` (BLAKE3's merge rule). */
  #mergeStack(chunks: number): void {
    const keep = popcount(chunks);
    while (this.#stack.length > keep) {
      const right = this.#stack.pop()!;
      const left = this.#stack.pop()!;
      this.#stack.push(parentOutput(left, right, this.key, this.flags).chainingValue());
    }
  }
}
