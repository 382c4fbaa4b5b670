import { blake3 as nobleBlake3 } from "@noble/hashes/blake3.js";
import { describe, expect, it } from "vitest";
import objectsDoc from "../docs/OBJECTS.md?raw";
import { blake3Tree, toHex } from "../shared/blake3";
import { CV_BYTES, HEADER_BYTES, decodeHeader, encodeOutboard, levelCount, levelOffset, outboardBytes, parentLevel, rootOf, treeShape } from "../shared/store/outboard";
import { TreeBuilder } from "../shared/store/tree-builder";
import { randomBytes } from "./helpers";

const tree = blake3Tree();

/** The outboard of `bytes` built the way an upload builds it: fed `pieceBytes` at a time. */
function outboardOf(bytes: Uint8Array, groupBytes: number, pieceBytes: number) {
  const shape = treeShape(bytes.length, groupBytes);
  const builder = new TreeBuilder(tree, shape, pieceBytes);
  for (let at = 0; at < bytes.length || (at === 0 && bytes.length === 0); at += pieceBytes) {
    builder.add(bytes.subarray(at, at + pieceBytes));
    if (bytes.length === 0) break;
  }
  return { shape, root: builder.root(), outboard: encodeOutboard(tree, shape, builder.groupLevel()) };
}

/** The documented vector: input bytes `i % 251`, 5 096 of them, in 1 KiB groups. */
const vectorInput = Uint8Array.from({ length: 4 * 1024 + 1000 }, (_, i) => i % 251);

/** The hex lines of the vector's outboard as docs/OBJECTS.md prints them. */
function documentedVector(): { root: string; outboard: string } {
  const block = /<!-- vector:begin -->([\s\S]*?)<!-- vector:end -->/.exec(objectsDoc)?.[1] ?? "";
  const root = /^root \(address\): b3:([0-9a-f]{64})$/m.exec(block)?.[1] ?? "";
  const outboard = [...block.matchAll(/^ {2}([0-9a-f]+)(?:\s|$)/gm)].map((m) => m[1]).join("");
  return { root, outboard };
}

describe("outboard tree", () => {
  it.each([
    [0, 1024],
    [1, 1024],
    [1023, 1024],
    [1024, 1024],
    [1025, 1024],
    [2048, 1024],
    [3 * 1024 + 1, 1024],
    [16 * 1024, 1024],
    [17 * 1024 - 1, 1024],
    [100_000, 4096],
    [70_000, 16 * 1024],
  ])("%i bytes in %i-byte groups: the root of its CVs is the BLAKE3 of the bytes, whatever the piece size", async (size, groupBytes) => {
    const bytes = randomBytes(size);
    const expected = toHex(nobleBlake3(bytes)); // an independent implementation
    const outboards = [1024, groupBytes, 4 * groupBytes].map((piece) => outboardOf(bytes, groupBytes, piece));
    for (const { root, outboard } of outboards) {
      expect(toHex(root)).toBe(expected);
      expect(outboard).toEqual(outboards[0]!.outboard);
    }
    const { shape, outboard } = outboards[0]!;
    expect(outboard.length).toBe(outboardBytes(shape));
    expect(decodeHeader(outboard.subarray(0, HEADER_BYTES), size)).toEqual(shape);
    if (shape.depth === 0) return;
    // each stored level is the parent level of the one below; the top pair hashes to the root
    for (let level = 0; level + 1 < shape.depth; level++) {
      const below = outboard.subarray(levelOffset(shape, level), levelOffset(shape, level) + levelCount(shape, level) * CV_BYTES);
      const above = outboard.subarray(levelOffset(shape, level + 1), levelOffset(shape, level + 1) + levelCount(shape, level + 1) * CV_BYTES);
      expect(parentLevel(tree, below)).toEqual(above);
    }
    const topPair = outboard.subarray(levelOffset(shape, shape.depth - 1), levelOffset(shape, shape.depth - 1) + 2 * CV_BYTES);
    expect(toHex(rootOf(tree, topPair))).toBe(expected);
    // and a group CV at its offset is that group's subtree: two groups make the root with it
    const groups = outboard.subarray(levelOffset(shape, 0));
    const g1 = bytes.subarray(groupBytes, 2 * groupBytes);
    expect(tree.subtreeCV(g1, groupBytes / 1024, false)).toEqual(groups.subarray(CV_BYTES, 2 * CV_BYTES));
  });

  it("refuses a header for another size, version or magic", () => {
    const { outboard } = outboardOf(randomBytes(5000), 1024, 1024);
    const header = outboard.slice(0, HEADER_BYTES);
    expect(decodeHeader(header, 5000)).not.toBeNull();
    expect(decodeHeader(header, 5001)).toBeNull();
    for (const at of [0, 4, 5, 6]) {
      const bad = header.slice();
      bad[at]! ^= 0x40;
      expect(decodeHeader(bad, 5000)).toBeNull();
    }
  });

  it("matches the test vector in docs/OBJECTS.md byte for byte", () => {
    const documented = documentedVector();
    const { root, outboard } = outboardOf(vectorInput, 1024, 1024);
    expect(documented.root).toBe(toHex(nobleBlake3(vectorInput)));
    expect(toHex(root)).toBe(documented.root);
    expect(toHex(outboard)).toBe(documented.outboard);
  });
});
