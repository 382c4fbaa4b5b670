// Types of the emscripten glue that scripts/extract-mlkem-wasm.mjs copies from @oqs/liboqs-js.
export interface LibOqsModule {
  HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  _OQS_init(): void;
  _OQS_KEM_new(name: number): number;
  _OQS_KEM_keypair(kem: number, publicKey: number, secretKey: number): number;
  _OQS_KEM_encaps(kem: number, cipherText: number, sharedSecret: number, publicKey: number): number;
  _OQS_KEM_decaps(kem: number, sharedSecret: number, cipherText: number, secretKey: number): number;
  stringToUTF8(text: string, pointer: number, maxBytes: number): void;
}

export interface LibOqsModuleArgs {
  /** Emscripten's hook: instantiate the module ourselves (here from an ahead-of-time compiled one). */
  instantiateWasm?(imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void): object;
}

export default function createLibOqs(args?: LibOqsModuleArgs): Promise<LibOqsModule>;
