// npm run -s ts -- load/bench/verify-slice.ts   how fast the SDK checks verified slices in Node:
// a whole 16 MiB object and a 64 KiB range of it (16 KiB groups), with the SDK's default BLAKE3
// (plain TypeScript) and the SIMD engine of shared/blake3, interleaved, three rounds (docs/SDK.md).
import { readFileSync } from "node:fs";
import { ScalarLanes } from "../../shared/blake3/lanes";
import { SimdLanes } from "../../shared/blake3/simd-lanes";
import { Blake3TreeEngine } from "../../shared/blake3/tree-engine";
import { sliceOfBytes } from "../../shared/store/slice";
import { verifySlice } from "../../sdk/proof";

const tree = new Blake3TreeEngine(new ScalarLanes());
// run from the repository's root (the bundle that runs this lives elsewhere: no import.meta.url)
const simd = new Blake3TreeEngine(new SimdLanes(new WebAssembly.Module(readFileSync("shared/blake3/blake3-simd.wasm"))));
const size = 16 * 1024 * 1024;
const bytes = Uint8Array.from({ length: size }, (_, i) => (i * 31) & 255);
const address = `b3:${simd.hashHex(bytes)}`;
const whole = sliceOfBytes(tree, bytes, { groupBytes: 16384, start: 0, end: size });
const range = sliceOfBytes(tree, bytes, { groupBytes: 16384, start: 5_000_000, end: 5_000_000 + 65_536 });
const engines = { "plain TS": undefined, SIMD: simd };
for (let round = 1; round <= 3; round++) {
  for (const [name, engine] of Object.entries(engines)) {
    let from = performance.now();
    verifySlice(address, whole, undefined, { tree: engine });
    const wholeMs = performance.now() - from;
    from = performance.now();
    for (let i = 0; i < 20; i++) verifySlice(address, range, undefined, { tree: engine });
    const rangeMs = (performance.now() - from) / 20;
    console.log(`round ${round} ${name}: whole 16 MiB ${wholeMs.toFixed(0)} ms (${(16 / (wholeMs / 1000)).toFixed(0)} MiB/s); 64 KiB range (slice ${range.length} B) ${rangeMs.toFixed(2)} ms`);
  }
}
