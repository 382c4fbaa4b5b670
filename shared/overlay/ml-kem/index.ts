/**
 * @module ML-KEM-768 for the server's side of a hybrid handshake: liboqs (@oqs/liboqs-js) built
 * to WASM, about 10× faster than the pure-JS @noble/post-quantum that clients keep. workerd
 * forbids compiling WASM from bytes, so the module is imported as a compiled module
 * (scripts/extract-mlkem-wasm.mjs takes it out of the package) and handed to the emscripten
 * glue's `instantiateWasm` hook, which then never decodes the copy it carries inline.
 * Both implementations speak FIPS 203: tests/ml-kem.test.ts runs them against each other.
 */
import createLibOqs, { type LibOqsModule } from "./liboqs-ml-kem-768.mjs";
import wasm from "./liboqs-ml-kem-768.wasm";

export const ML_KEM_768 = { publicKey: 1184, secretKey: 2400, cipherText: 1088, sharedSecret: 32 } as const;

/** FIPS 203 ML-KEM-768; every call throws on input of the wrong size or a key that fails FIPS 203's checks. */
export interface MlKem768 {
  keygen(): { publicKey: Uint8Array; secretKey: Uint8Array };
  encapsulate(publicKey: Uint8Array): { cipherText: Uint8Array; sharedSecret: Uint8Array };
  decapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array;
}

let loading: Promise<MlKem768> | undefined;

/** The isolate's liboqs ML-KEM-768, instantiated on first use (a few ms, once). */
export function wasmMlKem768(): Promise<MlKem768> {
  loading ??= instantiate().catch((error: unknown) => {
    loading = undefined; // let a later handshake try again instead of failing forever
    throw error;
  });
  return loading;
}

async function instantiate(): Promise<MlKem768> {
  const oqs = await createLibOqs({
    instantiateWasm(imports, done) {
      done(new WebAssembly.Instance(wasm, imports), wasm);
      return {};
    },
  });
  oqs._OQS_init();
  const name = "ML-KEM-768";
  const namePointer = oqs._malloc(name.length + 1);
  oqs.stringToUTF8(name, namePointer, name.length + 1);
  const kem = oqs._OQS_KEM_new(namePointer);
  oqs._free(namePointer);
  if (!kem) throw new Error("liboqs has no ML-KEM-768");
  return new LibOqsMlKem768(oqs, kem);
}

/**
 * One scratch area in WASM memory serves every call: calls are synchronous, so none interleave.
 * Secrets are copied out and their scratch zeroed before returning.
 */
class LibOqsMlKem768 implements MlKem768 {
  readonly #oqs: LibOqsModule;
  readonly #kem: number;
  readonly #publicKey: number;
  readonly #secretKey: number;
  readonly #cipherText: number;
  readonly #sharedSecret: number;

  constructor(oqs: LibOqsModule, kem: number) {
    this.#oqs = oqs;
    this.#kem = kem;
    this.#publicKey = oqs._malloc(ML_KEM_768.publicKey);
    this.#secretKey = oqs._malloc(ML_KEM_768.secretKey);
    this.#cipherText = oqs._malloc(ML_KEM_768.cipherText);
    this.#sharedSecret = oqs._malloc(ML_KEM_768.sharedSecret);
  }

  keygen() {
    this.#check(this.#oqs._OQS_KEM_keypair(this.#kem, this.#publicKey, this.#secretKey), "key generation");
    return { publicKey: this.#take(this.#publicKey, ML_KEM_768.publicKey), secretKey: this.#take(this.#secretKey, ML_KEM_768.secretKey) };
  }

  encapsulate(publicKey: Uint8Array) {
    this.#put(publicKey, this.#publicKey, ML_KEM_768.publicKey, "encapsulation key");
    this.#check(this.#oqs._OQS_KEM_encaps(this.#kem, this.#cipherText, this.#sharedSecret, this.#publicKey), "encapsulation");
    return { cipherText: this.#take(this.#cipherText, ML_KEM_768.cipherText), sharedSecret: this.#take(this.#sharedSecret, ML_KEM_768.sharedSecret) };
  }

  decapsulate(cipherText: Uint8Array, secretKey: Uint8Array) {
    this.#put(cipherText, this.#cipherText, ML_KEM_768.cipherText, "ciphertext");
    this.#put(secretKey, this.#secretKey, ML_KEM_768.secretKey, "decapsulation key");
    const status = this.#oqs._OQS_KEM_decaps(this.#kem, this.#sharedSecret, this.#cipherText, this.#secretKey);
    this.#oqs.HEAPU8.fill(0, this.#secretKey, this.#secretKey + ML_KEM_768.secretKey);
    this.#check(status, "decapsulation");
    return this.#take(this.#sharedSecret, ML_KEM_768.sharedSecret);
  }

  #put(bytes: Uint8Array, at: number, length: number, what: string): void {
    if (bytes.length !== length) throw new RangeError(`ML-KEM-768 ${what} must be ${length} bytes, not ${bytes.length}`);
    this.#oqs.HEAPU8.set(bytes, at);
  }

  /** A copy of `length` bytes at `at`, which is zeroed (HEAPU8 is read afresh: memory may grow). */
  #take(at: number, length: number): Uint8Array {
    const heap = this.#oqs.HEAPU8;
    const copy = heap.slice(at, at + length);
    heap.fill(0, at, at + length);
    return copy;
  }

  #check(status: number, what: string): void {
    if (status !== 0) throw new Error(`ML-KEM-768 ${what} refused (liboqs status ${status})`);
  }
}
