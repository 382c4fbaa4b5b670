/**
 * @module The verified slice (docs/OBJECTS.md, "Proofs", byte by byte): the bytes of a range of an
 * object with the proof that they are that object's, checkable against its address alone.
 *
 * A slice holds whole groups (the object's BLAKE3 subtrees of `G` bytes): the groups the range
 * covers and always the object's last group, because BLAKE3's root commits to the object's length
 * only along its rightmost path (the last chunk's length and the tree's shape); a proof without
 * the last group could claim another size. Every other subtree is sent as its chaining value
 * only: the "siblings", the largest subtrees holding no sent group, in left-to-right order.
 *
 * Pure layout and folding, shared by the server (shared/store/verified-slice.ts), which sends
 * slices from the stored outboard, and the SDK (sdk/proof.ts), which checks them.
 */
import type { Blake3Tree } from "../blake3/tree-engine";

export const SLICE_MEDIA_TYPE = "application/vnd.ron.b3-slice";
export const SLICE_HEADER_BYTES = 32;
const CV_BYTES = 32;
const CHUNK_BYTES = 1024;
/** "RB3S", then version 1. */
const MAGIC = [0x52, 0x42, 0x33, 0x53] as const;
const VERSION = 1;

/** What a slice says it holds: bytes `start` to `end` (exclusive) of an object of `size` bytes in groups of `groupBytes`. */
export interface SliceHeader {
  size: number;
  groupBytes: number;
  start: number;
  end: number;
}

/** A node of the group tree: `2^level` groups from group `index × 2^level` (fewer at the right edge). */
export interface TreeNode {
  level: number;
  index: number;
}

/** Which groups a slice carries and which subtrees it sends as CVs. */
export interface SlicePlan {
  groups: number;
  /** Groups the range covers: `first` to `last` inclusive. */
  first: number;
  last: number;
  /** The runs of sent groups, ascending: the covering groups, then the last group when they miss it. */
  runs: { first: number; last: number }[];
  /** Subtrees sent as CVs, in slice order (left to right). */
  siblings: TreeNode[];
  /** Bytes of the sent groups. */
  dataBytes: number;
  /** Bytes of the whole slice: header, siblings, groups. */
  sliceBytes: number;
}

/** Why a slice was refused; `reason` says which check failed. */
export type SliceFault = "malformed" | "length" | "range" | "mismatch";

/** A slice that does not prove what it claims (or not what was asked). */
export class SliceError extends Error {
  constructor(
    readonly reason: SliceFault,
    message: string,
  ) {
    super(message);
    this.name = "SliceError";
  }
}

/** Whether `header` (from the wire) describes a range a slice can hold; the server's own headers come from satisfiable ranges. */
export function checkHeader(header: SliceHeader): void {
  const { size, groupBytes, start, end } = header;
  if (!Number.isSafeInteger(size) || size < 0) throw new SliceError("malformed", `bad object size ${size}`);
  if (!Number.isSafeInteger(groupBytes) || groupBytes < CHUNK_BYTES || groupBytes > 2 ** 30 || (groupBytes & (groupBytes - 1)) !== 0) throw new SliceError("malformed", `bad group size ${groupBytes}`);
  // a non-empty object's slice holds at least one byte; the empty object's is the empty range
  const ok = Number.isSafeInteger(start) && Number.isSafeInteger(end) && (size === 0 ? start === 0 && end === 0 : start >= 0 && start < end && end <= size);
  if (!ok) throw new SliceError("range", `bad range ${start}-${end} of an object of ${size} bytes`);
}

/** Largest power of two strictly below `n` (n ≥ 2): BLAKE3's left subtree. */
function leftSpan(n: number): number {
  return 2 ** Math.floor(Math.log2(n - 1));
}

/** The level of the node over groups `lo..hi` (exclusive): its span rounded up to a power of two. */
const levelOf = (lo: number, hi: number) => Math.ceil(Math.log2(hi - lo));

/** The plan of a slice whose header is valid (checked by `decodeSliceHeader`, or made by the server from a satisfiable range). */
export function slicePlan(header: SliceHeader): SlicePlan {
  const { size, groupBytes: G, start, end } = header;
  const groups = Math.max(1, Math.ceil(size / G));
  const first = Math.floor(start / G);
  const last = size === 0 ? 0 : Math.floor((end - 1) / G);
  const runs = last === groups - 1 ? [{ first, last }] : [{ first, last }, { first: groups - 1, last: groups - 1 }];
  const siblings: TreeNode[] = [];
  // in the order foldSlice meets them (left to right); a node whose groups are all sent holds no
  // sibling and is not descended, so a plan costs O(depth) whatever range a (hostile) header claims
  const collect = (lo: number, hi: number): void => {
    if (!runs.some((run) => run.first < hi && run.last >= lo)) {
      const level = levelOf(lo, hi);
      siblings.push({ level, index: lo / 2 ** level });
    } else if (hi - lo > 1 && !runs.some((run) => run.first <= lo && run.last >= hi - 1)) {
      const split = lo + leftSpan(hi - lo);
      collect(lo, split);
      collect(split, hi);
    }
  };
  collect(0, groups);
  // by arithmetic, not a loop over groups: a hostile header may claim a range of 2^53 bytes
  const dataBytes = runs.reduce((sum, run) => sum + Math.min((run.last + 1) * G, size) - run.first * G, 0);
  return { groups, first, last, runs, siblings, dataBytes, sliceBytes: SLICE_HEADER_BYTES + siblings.length * CV_BYTES + dataBytes };
}

/** Where each sent group's bytes start in the slice's data section. */
function dataOffsets(plan: SlicePlan, header: SliceHeader): Map<number, number> {
  const offsets = new Map<number, number>();
  let at = 0;
  for (const run of plan.runs) {
    for (let g = run.first; g <= run.last; g++) {
      offsets.set(g, at);
      at += Math.min(header.groupBytes, header.size - g * header.groupBytes);
    }
  }
  return offsets;
}

/**
 * The root hash the slice's pieces fold to, walking the tree the way BLAKE3 splits it (left
 * subtree: the largest power of two of groups below the node's count): `siblingCV(i)` is the
 * i-th sibling's CV, `groupCV(g, isRoot)` the CV of sent group `g` (the root hash itself when the
 * object is one group).
 */
export function foldSlice(tree: Blake3Tree, plan: SlicePlan, siblingCV: (i: number) => Uint8Array, groupCV: (group: number, isRoot: boolean) => Uint8Array): Uint8Array {
  let next = 0;
  const node = (lo: number, hi: number, isRoot: boolean): Uint8Array => {
    // a node with no sent group is the next sibling (never the root: the root holds the last group)
    if (!plan.runs.some((run) => run.first < hi && run.last >= lo)) return siblingCV(next++);
    if (hi - lo === 1) return groupCV(lo, isRoot);
    const split = lo + leftSpan(hi - lo);
    const left = node(lo, split, false);
    return tree.parentCV(left, node(split, hi, false), isRoot);
  };
  return node(0, plan.groups, true);
}

export function encodeSliceHeader(header: SliceHeader): Uint8Array {
  const out = new Uint8Array(SLICE_HEADER_BYTES);
  out.set(MAGIC);
  out[4] = VERSION;
  out[5] = Math.log2(header.groupBytes);
  const view = new DataView(out.buffer);
  view.setBigUint64(8, BigInt(header.size), true);
  view.setBigUint64(16, BigInt(header.start), true);
  view.setBigUint64(24, BigInt(header.end), true);
  return out;
}

export function decodeSliceHeader(slice: Uint8Array): SliceHeader {
  if (slice.length < SLICE_HEADER_BYTES) throw new SliceError("length", `a slice has a ${SLICE_HEADER_BYTES}-byte header, got ${slice.length} bytes`);
  if (MAGIC.some((b, i) => slice[i] !== b)) throw new SliceError("malformed", "not a slice (magic is not RB3S)");
  if (slice[4] !== VERSION) throw new SliceError("malformed", `slice version ${slice[4]} (this reader knows ${VERSION})`);
  const log = slice[5]!;
  if (log < 10 || log > 30 || slice[6] !== 0 || slice[7] !== 0) throw new SliceError("malformed", "bad group size or reserved bytes in the slice header");
  const view = new DataView(slice.buffer, slice.byteOffset, SLICE_HEADER_BYTES);
  const u64 = (at: number) => {
    const value = view.getBigUint64(at, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new SliceError("malformed", "a slice header field is past 2^53");
    return Number(value);
  };
  const header = { size: u64(8), groupBytes: 2 ** log, start: u64(16), end: u64(24) };
  checkHeader(header);
  return header;
}

/** What a checked slice proved: bytes `start..end` (exclusive) of an object of `size` bytes. */
export interface VerifiedSliceBytes {
  bytes: Uint8Array;
  start: number;
  end: number;
  size: number;
}

/**
 * Checks `slice` against the object's root hash (its address's 32 bytes) and returns the range's
 * bytes, or throws SliceError. With `expected`, the header must state exactly that range (a
 * slice for another range of the same object is refused, not returned).
 */
export function verifySlice(tree: Blake3Tree, root: Uint8Array, slice: Uint8Array, expected?: { start: number; end: number }): VerifiedSliceBytes {
  const header = decodeSliceHeader(slice);
  if (expected && (header.start !== expected.start || header.end !== expected.end)) {
    throw new SliceError("range", `the slice holds bytes ${header.start}-${header.end}, not the ${expected.start}-${expected.end} asked for`);
  }
  const plan = slicePlan(header); // the header was checked by decodeSliceHeader
  if (slice.length !== plan.sliceBytes) throw new SliceError("length", `a slice of bytes ${header.start}-${header.end} of ${header.size} is ${plan.sliceBytes} bytes, got ${slice.length}`);
  const G = header.groupBytes;
  const siblingsAt = SLICE_HEADER_BYTES;
  const dataAt = siblingsAt + plan.siblings.length * CV_BYTES;
  const offsets = dataOffsets(plan, header);
  const groupBytes = (g: number) => {
    const at = dataAt + offsets.get(g)!;
    return slice.subarray(at, at + Math.min(G, header.size - g * G));
  };
  const actual = foldSlice(
    tree,
    plan,
    (i) => slice.subarray(siblingsAt + i * CV_BYTES, siblingsAt + (i + 1) * CV_BYTES),
    (g, isRoot) => tree.subtreeCV(groupBytes(g), isRoot ? 0 : (g * G) / CHUNK_BYTES, isRoot),
  );
  if (!sameBytes(actual, root)) throw new SliceError("mismatch", "the slice does not hash to the address");
  const from = dataAt + header.start - plan.first * G;
  return { bytes: slice.subarray(from, from + header.end - header.start), start: header.start, end: header.end, size: header.size };
}

/** Constant time is not needed here (nothing secret), only equality. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A slice made from the whole object's bytes (the reference the server's outboard-made slices
 * are tested against, and the documented test vector's generator). Hashes every group.
 */
export function sliceOfBytes(tree: Blake3Tree, bytes: Uint8Array, header: Omit<SliceHeader, "size">): Uint8Array {
  const full = { ...header, size: bytes.length };
  const plan = slicePlan(full);
  const G = header.groupBytes;
  const groupCV = (g: number) => tree.subtreeCV(bytes.subarray(g * G, Math.min((g + 1) * G, bytes.length)), (g * G) / CHUNK_BYTES, false);
  /** The CV of the node over groups `lo..hi`, BLAKE3's way. */
  const nodeCV = (lo: number, hi: number): Uint8Array => {
    if (hi - lo === 1) return groupCV(lo);
    const split = lo + leftSpan(hi - lo);
    return tree.parentCV(nodeCV(lo, split), nodeCV(split, hi), false);
  };
  const out = new Uint8Array(plan.sliceBytes);
  out.set(encodeSliceHeader(full));
  for (const [i, { level, index }] of plan.siblings.entries()) {
    const lo = index * 2 ** level;
    out.set(nodeCV(lo, Math.min(lo + 2 ** level, plan.groups)), SLICE_HEADER_BYTES + i * CV_BYTES);
  }
  let at = SLICE_HEADER_BYTES + plan.siblings.length * CV_BYTES;
  for (const run of plan.runs) {
    const piece = bytes.subarray(run.first * G, Math.min((run.last + 1) * G, bytes.length));
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}
