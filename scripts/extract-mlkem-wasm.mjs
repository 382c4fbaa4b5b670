// Writes shared/overlay/ml-kem/liboqs-ml-kem-768.{mjs,wasm} from the installed @oqs/liboqs-js
// package: its emscripten glue for ML-KEM-768, and the WASM that the glue carries inline.
// workerd refuses to compile WASM from bytes at run time, so the module must be a file that
// wrangler bundles as a compiled module and hands to the glue's `instantiateWasm` hook. Taking
// both from node_modules keeps binaries out of git and pinned by package-lock.json.
// Usage: node scripts/extract-mlkem-wasm.mjs [package dir] (default node_modules/@oqs/liboqs-js).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const packageDir = resolve(process.argv[2] ?? join(root, "node_modules/@oqs/liboqs-js"));
const glue = join(packageDir, "dist/ml-kem-768.min.js");
const outDir = join(root, "shared/overlay/ml-kem");
if (!existsSync(glue)) {
  console.error(`extract-mlkem-wasm: ${glue} not found; is @oqs/liboqs-js 0.15.x installed?`);
  process.exit(1);
}

// The glue decodes its embedded module and hands the bytes to WebAssembly.instantiate: run it
// once here and keep those bytes.
let captured;
const instantiate = WebAssembly.instantiate;
WebAssembly.instantiate = (bytes, imports) => {
  if (!captured && ArrayBuffer.isView(bytes)) captured = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return instantiate(bytes, imports);
};
try {
  await (await import(pathToFileURL(glue).href)).default();
} finally {
  WebAssembly.instantiate = instantiate;
}
if (!captured || captured.subarray(0, 4).toString("binary") !== "\0asm") {
  console.error(`extract-mlkem-wasm: ${glue} did not instantiate a WASM module from bytes`);
  process.exit(1);
}
// workerd with nodejs_compat has process.versions.node, and the glue's Node branch then reads
// files beside import.meta.url, which a bundled worker has not: the copy never takes that branch.
const NODE_TEST = 'n=globalThis.process?.versions?.node&&"renderer"!=globalThis.process?.type;';
const source = readFileSync(glue, "latin1");
if (source.split(NODE_TEST).length !== 2) {
  console.error(`extract-mlkem-wasm: ${glue} does not test for Node as expected (another @oqs/liboqs-js build?)`);
  process.exit(1);
}
// The inline copy of the module (a ~50 KB binary string literal, passed to the glue's decoder) is
// only used without an `instantiateWasm` hook, and the worker always passes one: drop it, or it is
// ~70 KB of every bundle that carries ML-KEM (more once escaped).
const INLINE_START = "'\0asm";
const inlineAt = source.indexOf(INLINE_START);
if (inlineAt < 0 || source.indexOf(INLINE_START, inlineAt + 1) >= 0) {
  console.error(`extract-mlkem-wasm: ${glue} does not carry one inline module as expected (another @oqs/liboqs-js build?)`);
  process.exit(1);
}
let inlineEnd = inlineAt + 1;
while (source[inlineEnd] !== "'") inlineEnd += source[inlineEnd] === "\\" ? 2 : 1;
const withoutInline = source.slice(0, inlineAt) + "''" + source.slice(inlineEnd + 1);
const patched = Buffer.from(withoutInline.replace(NODE_TEST, "n=!1;"), "latin1");
const wasmTarget = join(outDir, "liboqs-ml-kem-768.wasm");
const glueTarget = join(outDir, "liboqs-ml-kem-768.mjs");
if (!existsSync(wasmTarget) || !readFileSync(wasmTarget).equals(captured)) writeFileSync(wasmTarget, captured);
if (!existsSync(glueTarget) || !readFileSync(glueTarget).equals(patched)) writeFileSync(glueTarget, patched);
