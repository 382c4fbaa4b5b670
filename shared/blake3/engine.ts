/**
 * @module BLAKE3 over hash-wasm's WASM build, independent of how the module was loaded.
 *
 * One WASM instance holds one hasher state. Many requests hash concurrently (each awaits
 * between body chunks), so every hasher keeps its own copy of the 1,912-byte state in JS and
 * the engine swaps states in and out of the instance only when a different hasher takes over.
 */

/** The exports of hash-wasm's blake3 module (it has no imports). */
interface Blake3Exports {
  memory: WebAssembly.Memory;
  Hash_GetBuffer(): number;
  Hash_GetState(): number;
  Hash_Init(keyBytes: number): void;
  Hash_Update(length: number): void;
  Hash_Final(outputLength: number): void;
  STATE_SIZE: WebAssembly.Global;
}

/** Size of the module's I/O buffer: the most bytes one `Hash_Update` call reads. */
const IO_BUFFER_BYTES = 16 * 1024;
const KEY_BYTES = 32;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += HEX[b];
  return out;
}

/** Drives one WASM instance; hand out any number of independent hashers from it. */
export class Blake3Engine {
  readonly #ex: Blake3Exports;
  readonly #stateSize: number;
  #owner: Blake3Hasher | null = null;

  constructor(module: WebAssembly.Module) {
    this.#ex = new WebAssembly.Instance(module, {}).exports as unknown as Blake3Exports;
    const at = this.#ex.STATE_SIZE.value as number;
    this.#stateSize = new DataView(this.#ex.memory.buffer).getUint32(at, true);
  }

  /** A streaming hasher; with `key` (32 bytes) it computes BLAKE3's keyed hash. */
  createHasher(key?: Uint8Array): Blake3Hasher {
    if (key && key.length !== KEY_BYTES) throw new RangeError(`BLAKE3 key must be ${KEY_BYTES} bytes, got ${key.length}`);
    this.#release();
    if (key) this.#io().set(key);
    this.#ex.Hash_Init(key ? KEY_BYTES : 0); // 32 selects keyed mode, key read from the I/O buffer
    return new Blake3Hasher(this, this.#state().slice());
  }

  /** One-shot hash of `data`, `outputLength` bytes (default 32). */
  hash(data: Uint8Array, outputLength = 32): Uint8Array {
    return this.createHasher().update(data).digest(outputLength);
  }

  /** `hash` as lowercase hex. */
  hashHex(data: Uint8Array): string {
    return toHex(this.hash(data));
  }

  /** @internal */
  update(hasher: Blake3Hasher, data: Uint8Array): void {
    this.#activate(hasher);
    for (let offset = 0; offset < data.length; offset += IO_BUFFER_BYTES) {
      const chunk = data.subarray(offset, offset + IO_BUFFER_BYTES);
      this.#io().set(chunk);
      this.#ex.Hash_Update(chunk.length);
    }
  }

  /** @internal */
  finish(hasher: Blake3Hasher, outputLength: number): Uint8Array {
    if (!Number.isInteger(outputLength) || outputLength < 1 || outputLength > IO_BUFFER_BYTES) {
      throw new RangeError(`BLAKE3 output length must be 1..${IO_BUFFER_BYTES}, got ${outputLength}`);
    }
    this.#activate(hasher);
    this.#ex.Hash_Final(outputLength);
    this.#owner = null; // finalising consumed the state held by the instance
    return this.#io().slice(0, outputLength);
  }

  /** Load `hasher`'s state into the instance, saving the previous owner's state first. */
  #activate(hasher: Blake3Hasher): void {
    if (this.#owner === hasher) return;
    this.#release();
    this.#state().set(hasher.state);
    this.#owner = hasher;
  }

  #release(): void {
    if (this.#owner) this.#owner.state.set(this.#state());
    this.#owner = null;
  }

  #io(): Uint8Array {
    return new Uint8Array(this.#ex.memory.buffer, this.#ex.Hash_GetBuffer(), IO_BUFFER_BYTES);
  }

  #state(): Uint8Array {
    return new Uint8Array(this.#ex.memory.buffer, this.#ex.Hash_GetState(), this.#stateSize);
  }
}

/** A streaming BLAKE3 computation; safe to interleave with other hashers on the same engine. */
export class Blake3Hasher {
  #done = false;

  /** @internal — use `Blake3Engine.createHasher`. */
  constructor(
    private readonly engine: Blake3Engine,
    /** @internal */ readonly state: Uint8Array,
  ) {}

  update(data: Uint8Array): this {
    if (this.#done) throw new Error("BLAKE3 hasher already finalised");
    this.engine.update(this, data);
    return this;
  }

  /** Finalise; `outputLength` bytes of BLAKE3's extendable output (default 32). */
  digest(outputLength = 32): Uint8Array {
    if (this.#done) throw new Error("BLAKE3 hasher already finalised");
    this.#done = true;
    return this.engine.finish(this, outputLength);
  }

  digestHex(outputLength = 32): string {
    return toHex(this.digest(outputLength));
  }
}
