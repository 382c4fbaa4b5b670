/**
 * @module Verified slices from the store (format: shared/store/slice.ts, docs/OBJECTS.md): the
 * sibling CVs come from the stored outboard (a few 32-byte reads, no hashing of the object) and
 * are checked here, folded with the sent groups' CVs, against the address before anything is
 * sent; the groups are read through the verified range reads, so a group that fails its CV is
 * 502 INTEGRITY_FAIL before the first byte, and cuts the body short after it, as for any read.
 */
import { blake3Tree } from "../blake3";
import { joinChunks } from "../bytes";
import type { RequestContext } from "../context";
import type { ObjectInfo, ObjectStore, PeekedObject } from "./object-store";
import { CV_BYTES, equalBytes, hexToBytes, levelOffset, type TreeShape } from "./outboard";
import { SLICE_HEADER_BYTES, encodeSliceHeader, foldSlice, slicePlan, type SliceHeader, type SlicePlan, type TreeNode } from "./slice";
import { integrityFailure, openVerifiedRange, verifiedShape, type VerifiedReadOptions } from "./verified-read";

type CorrContext = Pick<RequestContext, "corrId"> & Partial<Pick<RequestContext, "timing">>;

/** Outboard reads closer than this are merged into one (the upper levels sit together at its start). */
const MERGE_GAP_BYTES = 4096;

/** A slice about to be sent: its header and length are known before any object byte is read. */
export interface PlannedSlice {
  header: SliceHeader;
  plan: SlicePlan;
  shape: TreeShape;
}

/** The slice of bytes `start..end` (exclusive; 0..0 for the empty object): the group size is the outboard's. */
export async function planVerifiedSlice(rc: CorrContext, store: ObjectStore, hex: string, info: ObjectInfo | PeekedObject, start: number, end: number, options: VerifiedReadOptions): Promise<PlannedSlice> {
  const shape = await verifiedShape(rc, store, hex, info, options);
  const header = { size: info.size, groupBytes: shape.groupBytes, start, end };
  return { header, plan: slicePlan(header), shape };
}

/**
 * The slice's bytes: header and checked siblings, then the sent groups as the verified reads give
 * them. Throws IntegrityError before anything is sent when the outboard's siblings or the first
 * group of a run fail; a later group errors the stream.
 */
export async function openVerifiedSlice(rc: CorrContext, store: ObjectStore, hex: string, info: ObjectInfo | PeekedObject, planned: PlannedSlice, options: VerifiedReadOptions): Promise<ReadableStream<Uint8Array> | Uint8Array> {
  const { header, plan, shape } = planned;
  const siblings = plan.siblings.length ? await checkedSiblings(rc, store, hex, planned) : new Uint8Array(0);
  const prefix = new Uint8Array(SLICE_HEADER_BYTES + siblings.length);
  prefix.set(encodeSliceHeader(header));
  prefix.set(siblings, SLICE_HEADER_BYTES);
  const G = shape.groupBytes;
  const pieces: (ReadableStream<Uint8Array> | Uint8Array)[] = [prefix];
  for (const run of plan.runs) pieces.push(await openVerifiedRange(rc, store, hex, info, run.first * G, Math.min((run.last + 1) * G, header.size), options));
  if (pieces.every((piece) => piece instanceof Uint8Array)) return joinChunks(pieces as Uint8Array[], plan.sliceBytes);
  return concatenated(pieces);
}

/**
 * The siblings' CVs read from the outboard, checked: folded with the sent groups' CVs (also read
 * from it) they must give the address. Not a hash of any object byte: one parent per node.
 */
async function checkedSiblings(rc: CorrContext, store: ObjectStore, hex: string, { plan, shape }: PlannedSlice): Promise<Uint8Array> {
  const groupNodes: TreeNode[] = [];
  for (const run of plan.runs) for (let g = run.first; g <= run.last; g++) groupNodes.push({ level: 0, index: g });
  const cvs = await readNodes(store, hex, shape, [...plan.siblings, ...groupNodes]);
  if (!cvs) throw integrityFailure(rc, store, hex, "outboard slice");
  const siblingCount = plan.siblings.length;
  const groupIndex = new Map(groupNodes.map((node, i) => [node.index, siblingCount + i]));
  const root = foldSlice(blake3Tree(), plan, (i) => cvs[i]!, (g) => cvs[groupIndex.get(g)!]!);
  if (!equalBytes(root, hexToBytes(hex))) throw integrityFailure(rc, store, hex, "outboard slice");
  const out = new Uint8Array(siblingCount * CV_BYTES);
  for (let i = 0; i < siblingCount; i++) out.set(cvs[i]!, i * CV_BYTES);
  return out;
}

/** The CVs of `nodes` (in that order) from the outboard, nearby ones in one read; null when the outboard is short. */
async function readNodes(store: ObjectStore, hex: string, shape: TreeShape, nodes: TreeNode[]): Promise<Uint8Array[] | null> {
  const wanted = nodes.map((node, i) => ({ i, at: levelOffset(shape, node.level) + node.index * CV_BYTES })).sort((a, b) => a.at - b.at);
  const runs: { from: number; to: number; members: typeof wanted }[] = [];
  for (const w of wanted) {
    const run = runs[runs.length - 1];
    if (run && w.at - run.to <= MERGE_GAP_BYTES) {
      run.to = Math.max(run.to, w.at + CV_BYTES);
      run.members.push(w);
    } else runs.push({ from: w.at, to: w.at + CV_BYTES, members: [w] });
  }
  const out: Uint8Array[] = new Array(nodes.length);
  const reads = await Promise.all(runs.map((run) => store.getOutboard(hex, run.from, run.to - run.from)));
  for (const [r, run] of runs.entries()) {
    const bytes = reads[r];
    if (!bytes || bytes.length !== run.to - run.from) return null;
    for (const w of run.members) out[w.i] = bytes.subarray(w.at - run.from, w.at - run.from + CV_BYTES);
  }
  return out;
}

/** The pieces one after the other as one stream; an error in one errors it (the response is cut short). */
function concatenated(pieces: (ReadableStream<Uint8Array> | Uint8Array)[]): ReadableStream<Uint8Array> {
  const chunks = (async function* () {
    for (const piece of pieces) {
      if (piece instanceof Uint8Array) {
        yield piece;
        continue;
      }
      const reader = piece.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        yield value;
      }
    }
  })();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      } catch (error) {
        controller.error(error);
      }
    },
    async cancel(reason) {
      await Promise.all(pieces.map((piece) => (piece instanceof Uint8Array ? undefined : piece.cancel(reason).catch(() => {}))));
    },
  });
}
