// npm run -s ts -- scripts/slice-vector.ts   prints docs/OBJECTS.md's verified-slice test vector
// (between its `slice-vector` markers), made by the code the server and the SDK run
// (shared/store/slice.ts); tests/proof.test.ts checks the block against that code and a server.
import { ScalarLanes } from "../shared/blake3/lanes";
import { Blake3TreeEngine, toHex } from "../shared/blake3/tree-engine";
import { SLICE_HEADER_BYTES, sliceOfBytes, slicePlan } from "../shared/store/slice";

const tree = new Blake3TreeEngine(new ScalarLanes());
/** The outboard vector's input: 5 096 bytes, byte i = i mod 251; 1 KiB groups. */
const input = Uint8Array.from({ length: 5096 }, (_, i) => i % 251);
const header = { groupBytes: 1024, start: 100, end: 200 };
const slice = sliceOfBytes(tree, input, header);
const plan = slicePlan({ ...header, size: input.length });
const describe = ({ level, index }: { level: number; index: number }) => `level ${level} [${index}]`;

const lines = [
  "```",
  `address: b3:${tree.hashHex(input)}`,
  `slice of bytes ${header.start}–${header.end - 1} (Range: bytes=${header.start}-${header.end - 1}), ${slice.length} bytes:`,
  `  ${toHex(slice.subarray(0, 16))}  header: RB3S, v1, G = 2^10, n = ${input.length}`,
  `  ${toHex(slice.subarray(16, 32))}  header: start = ${header.start}, end = ${header.end}`,
  ...plan.siblings.map((node, i) => `  ${toHex(slice.subarray(SLICE_HEADER_BYTES + 32 * i, SLICE_HEADER_BYTES + 32 * (i + 1)))}  sibling ${i}: ${describe(node)}`),
  ...plan.runs.map((run) => `  input bytes ${run.first * 1024}–${Math.min((run.last + 1) * 1024, input.length) - 1}  (group${run.first === run.last ? ` ${run.first}` : `s ${run.first}–${run.last}`})`),
  `BLAKE3 of the whole slice: ${tree.hashHex(slice)}`,
  "```",
];
console.log(lines.join("\n"));
