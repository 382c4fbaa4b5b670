/**
 * @module `Blake3Lanes` over the SIMD128 module built by scripts/build-blake3-simd.mjs: 4 chunks
 * (or 4 parent nodes) per pass. The module has no imports; it owns its memory, and the caller
 * copies input into it, so the engine's state stays in JS and hashers interleave freely.
 */
import { CHUNK_BYTES, OUT_BYTES } from "./compress";
import type { Blake3Lanes } from "./lanes";

interface SimdExports {
  memory: WebAssembly.Memory;
  KEY: WebAssembly.Global;
  CVS: WebAssembly.Global;
  INPUT: WebAssembly.Global;
  MAX_CHUNKS: WebAssembly.Global;
  chunks(n: number, counterLo: number, counterHi: number, flags: number): void;
  parents(pairs: number, flags: number): void;
}

export class SimdLanes implements Blake3Lanes {
  readonly maxChunks: number;
  readonly cvs: Uint8Array;
  readonly #ex: SimdExports;
  readonly #input: Uint8Array;
  readonly #key: DataView;
  /** The key words last written to the module, to skip rewriting them on every call. */
  #keyLoaded: Uint32Array | null = null;

  constructor(module: WebAssembly.Module) {
    this.#ex = new WebAssembly.Instance(module, {}).exports as unknown as SimdExports;
    this.maxChunks = this.#ex.MAX_CHUNKS.value as number;
    const buffer = this.#ex.memory.buffer; // fixed size: the module never grows its memory
    this.cvs = new Uint8Array(buffer, this.#ex.CVS.value as number, this.maxChunks * OUT_BYTES);
    this.#input = new Uint8Array(buffer, this.#ex.INPUT.value as number, this.maxChunks * CHUNK_BYTES);
    this.#key = new DataView(buffer, this.#ex.KEY.value as number, 32);
  }

  chunks(input: Uint8Array, counter: number, key: Uint32Array, flags: number): void {
    this.#loadKey(key);
    this.#input.set(input);
    this.#ex.chunks(input.length / CHUNK_BYTES, counter >>> 0, Math.floor(counter / 2 ** 32), flags);
  }

  parents(pairs: number, key: Uint32Array, flags: number): void {
    this.#loadKey(key);
    this.#ex.parents(pairs, flags);
  }

  #loadKey(key: Uint32Array): void {
    if (this.#keyLoaded === key) return; // key arrays are never mutated once made
    for (let i = 0; i < 8; i++) this.#key.setUint32(4 * i, key[i]!, true);
    this.#keyLoaded = key;
  }
}
