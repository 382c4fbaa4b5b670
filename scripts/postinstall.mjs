#!/usr/bin/env node
// After `npm install`/`npm ci`: extract the BLAKE3 WASM from hash-wasm, build the SIMD BLAKE3
// module (scripts/build-blake3-simd.mjs), and extract the ML-KEM-768 WASM
// and glue from @oqs/liboqs-js, and generate the runtime
// and binding types (worker-configuration.d.ts) with wrangler, offline.
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
execFileSync(process.execPath, [join(root, "scripts/extract-blake3-wasm.mjs")], { stdio: "inherit" });
execFileSync(process.execPath, [join(root, "scripts/build-blake3-simd.mjs")], { stdio: "inherit" });
execFileSync(process.execPath, [join(root, "scripts/extract-mlkem-wasm.mjs")], { stdio: "inherit" });
execFileSync(join(root, "node_modules/.bin/wrangler"), ["types", "--include-env=false"], { cwd: root, env, stdio: ["ignore", "ignore", "inherit"] });
