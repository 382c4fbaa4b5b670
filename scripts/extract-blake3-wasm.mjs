// Writes shared/blake3/blake3.wasm from the installed hash-wasm package.
// workerd refuses to compile WASM from bytes at run time, so the module must be a file that
// wrangler bundles as a compiled module. Taking it from node_modules keeps the binary out of git
// and pinned by package-lock.json. Runs on postinstall and before build/test/start.
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const target = join(root, "shared/blake3/blake3.wasm");
const require = createRequire(import.meta.url);
const bundle = join(dirname(require.resolve("hash-wasm")), "index.esm.min.js");
const source = readFileSync(bundle, "utf8");
const found = /name:"blake3",data:"([A-Za-z0-9+/=]+)"/.exec(source);
if (!found) {
  console.error(`extract-blake3-wasm: no blake3 module found in ${bundle}; is hash-wasm 4.x installed?`);
  process.exit(1);
}
const bytes = Buffer.from(found[1], "base64");
if (bytes.subarray(0, 4).toString("binary") !== "\0asm") {
  console.error("extract-blake3-wasm: embedded blake3 data is not a WASM module");
  process.exit(1);
}
if (!existsSync(target) || !readFileSync(target).equals(bytes)) writeFileSync(target, bytes);
