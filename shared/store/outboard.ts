/**
 * @module The outboard tree of a stored object (docs/OBJECTS.md, byte by byte): a 16-byte header,
 * then the BLAKE3 chaining values of the object's groups (`VERIFY_GROUP_BYTES`, a power of two
 * of 1 KiB chunks) and of their parents, level by level from just below the root down to the
 * groups. The root itself is not stored: it is the address. Groups are complete BLAKE3 subtrees,
 * and a left-balanced tree is the same as pairing each level left to right and carrying an odd
 * last node up unchanged, so every level here is exactly a level of BLAKE3's own tree.
 *
 * Pure layout and folding; reading and writing it is verified-read.ts and verified-upload.ts.
 */
import type { Blake3Tree } from "../blake3";

export const CV_BYTES = 32;
export const HEADER_BYTES = 16;
export const CHUNK_BYTES = 1024;
/** "RB3T", then version 1. */
const MAGIC = [0x52, 0x42, 0x33, 0x54] as const;
const VERSION = 1;

/** The shape of one object's tree. */
export interface TreeShape {
  size: number;
  groupBytes: number;
  /** Groups: at least 1 (an empty object is one empty group). */
  groups: number;
  /** Levels above the groups; the root is level `depth` (0 when the object is one group). */
  depth: number;
  /** The level read whole and checked against the root; its nodes each cover `2^topLevel` groups. */
  topLevel: number;
}

export function treeShape(size: number, groupBytes: number): TreeShape {
  const groups = Math.max(1, Math.ceil(size / groupBytes));
  const depth = groups === 1 ? 0 : Math.ceil(Math.log2(groups));
  // about √groups nodes above and √groups groups below: a range reads both halves, each small
  return { size, groupBytes, groups, depth, topLevel: Math.floor(depth / 2) };
}

/** Nodes at `level` (0 = the groups). */
export const levelCount = (shape: TreeShape, level: number) => Math.ceil(shape.groups / 2 ** level);

/** Byte offset of `level` in the outboard: the levels are stored from `depth - 1` down to 0. */
export function levelOffset(shape: TreeShape, level: number): number {
  let offset = HEADER_BYTES;
  for (let above = shape.depth - 1; above > level; above--) offset += levelCount(shape, above) * CV_BYTES;
  return offset;
}

/** Bytes of the whole outboard (just the header for a one-group object). */
export const outboardBytes = (shape: TreeShape) => (shape.depth === 0 ? HEADER_BYTES : levelOffset(shape, -1));

export function encodeHeader(shape: TreeShape): Uint8Array {
  const header = new Uint8Array(HEADER_BYTES);
  header.set(MAGIC);
  header[4] = VERSION;
  header[5] = Math.log2(shape.groupBytes);
  new DataView(header.buffer).setBigUint64(8, BigInt(shape.size), true);
  return header;
}

/** The shape a header describes, or null when it is not a version-1 header for `size`. */
export function decodeHeader(header: Uint8Array, size: number): TreeShape | null {
  if (header.length < HEADER_BYTES || MAGIC.some((b, i) => header[i] !== b) || header[4] !== VERSION) return null;
  const log = header[5]!;
  if (log < 10 || log > 30 || header[6] !== 0 || header[7] !== 0) return null;
  const view = new DataView(header.buffer, header.byteOffset, HEADER_BYTES);
  if (view.getBigUint64(8, true) !== BigInt(size)) return null;
  return treeShape(size, 2 ** log);
}

/** The CV at `index` of a packed level. */
export const cvAt = (level: Uint8Array, index: number) => level.subarray(index * CV_BYTES, (index + 1) * CV_BYTES);

/** The level above `level`: pairs hashed left to right, an odd last node carried up as it is. */
export function parentLevel(tree: Blake3Tree, level: Uint8Array): Uint8Array {
  const count = level.length / CV_BYTES;
  const out = new Uint8Array(Math.ceil(count / 2) * CV_BYTES);
  for (let i = 0; i + 1 < count; i += 2) out.set(tree.parentCV(cvAt(level, i), cvAt(level, i + 1), false), (i / 2) * CV_BYTES);
  if (count % 2 === 1) out.set(cvAt(level, count - 1), (count - 1) / 2 * CV_BYTES);
  return out;
}

/** The CV of the subtree over a packed level's nodes (not the root). */
export function subtreeOf(tree: Blake3Tree, level: Uint8Array): Uint8Array {
  while (level.length > CV_BYTES) level = parentLevel(tree, level);
  return level;
}

/** The root hash over a packed level of at least two nodes. */
export function rootOf(tree: Blake3Tree, level: Uint8Array): Uint8Array {
  while (level.length > 2 * CV_BYTES) level = parentLevel(tree, level);
  return tree.parentCV(cvAt(level, 0), cvAt(level, 1), true);
}

/** Every level from the groups' up to (not including) the root, bottom first. */
export function levelsFrom(tree: Blake3Tree, groupLevel: Uint8Array): Uint8Array[] {
  const levels = [groupLevel];
  while (levels[levels.length - 1]!.length > 2 * CV_BYTES) levels.push(parentLevel(tree, levels[levels.length - 1]!));
  return levels;
}

/** The outboard of an object of `shape` whose group CVs are `groupLevel` (ignored for one group). */
export function encodeOutboard(tree: Blake3Tree, shape: TreeShape, groupLevel: Uint8Array): Uint8Array {
  const out = new Uint8Array(outboardBytes(shape));
  out.set(encodeHeader(shape));
  if (shape.depth === 0) return out;
  const levels = levelsFrom(tree, groupLevel);
  for (const [level, nodes] of levels.entries()) out.set(nodes, levelOffset(shape, level));
  return out;
}

/** CVs and roots are compared in constant time, as every MAC here. */
export { equalInConstantTime as equalBytes } from "../bytes";

export function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}
