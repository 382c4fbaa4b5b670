/**
 * @module Integrity on read. Ranged reads (`openVerifiedRange`) check every group against the
 * object's outboard tree before a byte of it is sent, and read only the groups a range covers
 * plus a few KiB of the tree: the tree's top level (√groups nodes, checked against the address
 * once and then kept in a small per-isolate cache) and, for each √groups-group window the range
 * touches, that window's group CVs (checked against their top node). An object stored without an
 * outboard gets one on its first read, after the whole object has been hashed once.
 *
 * A mismatch is counted (`integrity_fail_total`), logged with the address, and thrown as
 * IntegrityError (502 INTEGRITY_FAIL at the HTTP edge) when nothing was sent yet; later, it
 * errors the stream, so the response is cut short, never completed with bad bytes.
 * `readVerified` (whole object, re-hashed) remains for callers that need the bytes at once.
 */
import { blake3, blake3Tree, type Blake3Tree } from "../blake3";
import { ExactChunkReader } from "../body/exact-chunks";
import type { RequestContext } from "../context";
import { IntegrityError, MissingObjectError } from "../domain-errors";
import { metrics } from "../metrics";
import type { ObjectInfo, ObjectStore, PeekedObject, StoredObject } from "./object-store";
import {
  CHUNK_BYTES,
  CV_BYTES,
  HEADER_BYTES,
  cvAt,
  decodeHeader,
  encodeOutboard,
  equalBytes,
  hexToBytes,
  levelCount,
  levelOffset,
  rootOf,
  subtreeOf,
  treeShape,
  type TreeShape,
} from "./outboard";
import { TreeBuilder } from "./tree-builder";
import { ByteLru } from "../edge/byte-lru";
import { log } from "../log";

export type CorrContext = Pick<RequestContext, "corrId"> & Partial<Pick<RequestContext, "timing">>;

export function integrityFailure(rc: CorrContext, store: ObjectStore, hex: string, where: string): IntegrityError {
  metrics.integrityFail.inc();
  log.error(rc, "integrity failure", { address: `b3:${hex}`, store: store.kind, where });
  return new IntegrityError(`b3:${hex}`);
}

/** A group's (or a whole small object's) CV, its hashing time added to the request's Server-Timing `hash`. */
function timedCV(rc: CorrContext, tree: Blake3Tree, bytes: Uint8Array, chunkCounter: number, isRoot: boolean): Uint8Array {
  const from = performance.now();
  const cv = tree.subtreeCV(bytes, chunkCounter, isRoot);
  rc.timing?.add("hash", performance.now() - from);
  return cv;
}

export async function readVerified(rc: CorrContext, store: ObjectStore, hex: string): Promise<StoredObject> {
  const object = await store.get(hex);
  if (!object) throw new MissingObjectError(`b3:${hex}`);
  const from = performance.now();
  const actual = blake3().hashHex(object.bytes);
  rc.timing?.add("hash", performance.now() - from);
  if (actual !== hex) throw integrityFailure(rc, store, hex, "object");
  return object;
}

/** A verified top of a tree: the shape and the top level's nodes (checked against the root). */
interface VerifiedTop {
  shape: TreeShape;
  top: Uint8Array;
  /** All group CVs once checked, kept for trees of at most `CACHED_GROUPS` groups (a hot small object: no outboard read). */
  groups?: Uint8Array;
}

/** Trees of at most this many groups keep their checked group CVs in the cache (8 KiB each at most). */
const CACHED_GROUPS = 256;

/** Verified tops by store and address; small (a 1 GiB object's top is 8 KiB), least recently used out first. */
const TOP_CACHE_ENTRIES = 256;
const tops = new Map<string, VerifiedTop>();

function cachedTop(key: string): VerifiedTop | undefined {
  const hit = tops.get(key);
  if (hit) {
    tops.delete(key);
    tops.set(key, hit);
  }
  return hit;
}

function rememberTop(key: string, top: VerifiedTop): void {
  tops.set(key, top);
  if (tops.size > TOP_CACHE_ENTRIES) tops.delete(tops.keys().next().value!);
}

export interface VerifiedReadOptions {
  /** Group size for an outboard built on first read (`VERIFY_GROUP_BYTES`). */
  groupBytes: number;
  /** How much of an object is read at a time while building its outboard (`STREAM_CHUNK_BYTES`). */
  chunkBytes: number;
}

/** Objects up to this size (POST /put's own cap) are read whole in one store call and verified in memory (no stream per read). */
export const INLINE_READ_BYTES = 1024 * 1024;

/** Group CVs checked per outboard read, at most (4 096 CVs: 128 KiB). */
const BATCH_GROUPS = 4096;

/**
 * Bytes `start` to `end` (exclusive) of the object `hex` (described by `info`), each group
 * verified before it is handed on. The first group is verified before this returns, so a
 * failure there throws IntegrityError; later ones error the stream.
 */
export async function openVerifiedRange(rc: CorrContext, store: ObjectStore, hex: string, info: ObjectInfo | PeekedObject, start: number, end: number, options: VerifiedReadOptions): Promise<ReadableStream<Uint8Array> | Uint8Array> {
  const tree = blake3Tree();
  // a small object is read whole in one call (unless a peek brought it already): every covering
  // group is checked in memory before the answer, and the bytes go out as they are (no stream)
  const inline = await smallObjectBytes(store, hex, info);
  if (inline) return await verifiedSlice(rc, store, hex, info.size, tree, inline, start, end, options);
  // an object of one group at most is checked whole against its address: no outboard read needed
  if (info.size <= options.groupBytes) return streamOf(wholeObject(rc, store, hex, info.size, tree, start, end));
  const top = await verifiedTop(rc, store, hex, info.size, tree, options);
  return streamOf(top.shape.depth === 0 ? wholeObject(rc, store, hex, info.size, tree, start, end) : groupsOf(rc, store, hex, top, tree, start, end));
}

/**
 * The shape of the object's tree as its outboard records it (checked against the address, and
 * built on this first read for an object stored without one). One group (depth 0) for an object
 * of at most `groupBytes`, without reading any outboard.
 */
export async function verifiedShape(rc: CorrContext, store: ObjectStore, hex: string, info: ObjectInfo | PeekedObject, options: VerifiedReadOptions): Promise<TreeShape> {
  if (info.size <= options.groupBytes) return treeShape(info.size, options.groupBytes);
  return (await verifiedTop(rc, store, hex, info.size, blake3Tree(), options, "bytes" in info ? info.bytes : null)).shape;
}

/**
 * A small object (at most INLINE_READ_BYTES) whole, every group checked against its address:
 * bytes fit to be kept where later reads will not check them again (the object cache).
 */
export async function readVerifiedWhole(rc: CorrContext, store: ObjectStore, hex: string, info: ObjectInfo | PeekedObject, options: VerifiedReadOptions): Promise<Uint8Array> {
  const inline = await smallObjectBytes(store, hex, info);
  if (!inline) throw new RangeError(`b3:${hex} is larger than INLINE_READ_BYTES`);
  // awaited here, not handed on: workerd reports a rejection passed up unawaited as unhandled
  return await verifiedSlice(rc, store, hex, info.size, blake3Tree(), inline, 0, info.size, options);
}

/** The unverified bytes of an object read whole: the peek's, or one read when it is small; null for a large one. */
async function smallObjectBytes(store: ObjectStore, hex: string, info: ObjectInfo | PeekedObject): Promise<Uint8Array | null> {
  const peeked = "bytes" in info ? info.bytes : null;
  if (peeked || info.size > INLINE_READ_BYTES) return peeked;
  const bytes = (await store.peek(hex, INLINE_READ_BYTES))?.bytes;
  if (!bytes) throw new MissingObjectError(`b3:${hex}`);
  return bytes;
}

/** Ranges whose covering groups come to at most this many bytes are read in one store call by `readVerifiedRange`. */
const SMALL_RANGE_BYTES = 256 * 1024;

/**
 * Bytes `start` to `end` (exclusive), every covering group checked before this returns: for
 * readers that need the bytes at once (a tile, a directory of a PMTiles pack). A small range of a
 * large object is one ranged read of its groups, checked in memory (no stream per read); anything
 * else goes through `openVerifiedRange`. Any bad group throws IntegrityError.
 */
export async function readVerifiedRange(rc: CorrContext, store: ObjectStore, hex: string, info: ObjectInfo, start: number, end: number, options: VerifiedReadOptions): Promise<Uint8Array> {
  if (end <= start) return new Uint8Array(0);
  if (info.size > INLINE_READ_BYTES && info.size > options.groupBytes) {
    const tree = blake3Tree();
    const top = await verifiedTop(rc, store, hex, info.size, tree, options);
    const G = top.shape.groupBytes;
    const first = Math.floor(start / G);
    const dataEnd = Math.min((Math.floor((end - 1) / G) + 1) * G, info.size);
    if (top.shape.depth > 0 && dataEnd - first * G <= SMALL_RANGE_BYTES) {
      const bytes = await store.getRange(hex, first * G, dataEnd - first * G);
      if (!bytes) throw new MissingObjectError(`b3:${hex}`);
      return await groupsInRange(rc, store, hex, top, tree, bytes, first * G, start, end);
    }
  }
  const read = await openVerifiedRange(rc, store, hex, info, start, end, options);
  return read instanceof Uint8Array ? read : await collect(read, end - start);
}

/** The covering groups of `start..end`, read as `bytes` from `at` (a group boundary), each checked against its CV. */
async function groupsInRange(rc: CorrContext, store: ObjectStore, hex: string, verified: VerifiedTop, tree: Blake3Tree, bytes: Uint8Array, at: number, start: number, end: number): Promise<Uint8Array> {
  const { shape } = verified;
  const G = shape.groupBytes;
  const first = at / G;
  const last = Math.floor((end - 1) / G);
  if (bytes.length !== Math.min((last + 1) * G, shape.size) - at) throw integrityFailure(rc, store, hex, "range length");
  const cvs = new GroupCVs(rc, store, hex, verified, tree);
  for (let group = first; group <= last; group++) {
    const piece = bytes.subarray((group - first) * G, Math.min((group - first + 1) * G, bytes.length));
    if (!equalBytes(timedCV(rc, tree, piece, (group * G) / CHUNK_BYTES, false), await cvs.load(group))) throw integrityFailure(rc, store, hex, `group ${group}`);
  }
  return bytes.subarray(start - at, end - at);
}

/** A verified stream read whole (a bad group rejects here). */
async function collect(stream: ReadableStream<Uint8Array>, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let filled = 0;
  for await (const piece of stream) {
    if (filled + piece.length > length) throw new Error("a verified range read ran past its length");
    out.set(piece, filled);
    filled += piece.length;
  }
  if (filled !== length) throw new Error(`a verified range read ended after ${filled} of ${length} bytes`);
  return out;
}

/** Bytes `start..end` of an object held whole, after checking the groups they cover (or the whole, when it is one group). */
async function verifiedSlice(rc: CorrContext, store: ObjectStore, hex: string, size: number, tree: Blake3Tree, bytes: Uint8Array, start: number, end: number, options: VerifiedReadOptions): Promise<Uint8Array> {
  if (bytes.length !== size) throw integrityFailure(rc, store, hex, "object length");
  const whole = () => {
    if (!equalBytes(timedCV(rc, tree, bytes, 0, true), hexToBytes(hex))) throw integrityFailure(rc, store, hex, "object");
  };
  if (size <= options.groupBytes) whole();
  else {
    const top = await verifiedTop(rc, store, hex, size, tree, options, bytes);
    if (top.shape.depth === 0) whole();
    else for await (const _ of groupsIn(rc, store, hex, top, tree, bytes, start, end));
  }
  return bytes.subarray(start, end);
}

/** The verified pieces as a stream; the first is verified before this returns (its failure throws). */
async function streamOf(groups: AsyncGenerator<Uint8Array>): Promise<ReadableStream<Uint8Array>> {
  const first = await groups.next(); // throws IntegrityError before anything is sent
  let pending: IteratorResult<Uint8Array> | null = first;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = pending ?? (await groups.next());
        pending = null;
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      } catch (error) {
        controller.error(error);
      }
    },
    async cancel() {
      await groups.return(undefined);
    },
  });
}

/** The object's verified top, from the cache, its outboard, or (no outboard yet) built now. */
async function verifiedTop(rc: CorrContext, store: ObjectStore, hex: string, size: number, tree: Blake3Tree, options: VerifiedReadOptions, inline: Uint8Array | null = null): Promise<VerifiedTop> {
  const key = `${store.kind}:${hex}`;
  const hit = cachedTop(key);
  if (hit && hit.shape.size === size) return hit;
  let header = await store.getOutboard(hex, 0, HEADER_BYTES);
  if (header === null) {
    const built = await buildOutboard(rc, store, hex, size, tree, options, inline);
    if (built.kept) {
      rememberTop(key, built.top);
      return built.top;
    }
    // another reader's outboard won (perhaps with another group size): read that one instead
    header = await store.getOutboard(hex, 0, HEADER_BYTES);
    if (header === null) return built.top; // the store could not keep one (budget): ours, uncached
  }
  const top = await topFromOutboard(rc, store, hex, size, tree, header);
  rememberTop(key, top);
  return top;
}

/**
 * Keep the outboard of an object just stored whole from bytes in hand (a publish): its first
 * ranged read then reads only its groups, instead of the whole object to build the outboard.
 * Nothing to keep for an object of one group (it is checked whole against its address).
 */
export async function keepOutboardOf(rc: CorrContext, store: ObjectStore, hex: string, bytes: Uint8Array, options: VerifiedReadOptions): Promise<void> {
  if (bytes.length <= options.groupBytes) return;
  const built = await buildOutboard(rc, store, hex, bytes.length, blake3Tree(), options, bytes);
  if (built.kept) rememberTop(`${store.kind}:${hex}`, built.top);
}

/** The top level of a stored outboard, checked against the address. */
async function topFromOutboard(rc: CorrContext, store: ObjectStore, hex: string, size: number, tree: Blake3Tree, header: Uint8Array): Promise<VerifiedTop> {
  const shape = decodeHeader(header, size);
  if (!shape) throw integrityFailure(rc, store, hex, "outboard header");
  if (shape.depth === 0) return { shape, top: new Uint8Array(0) };
  const level = shape.topLevel;
  const nodes = (await store.getOutboard(hex, levelOffset(shape, level), levelCount(shape, level) * CV_BYTES)) ?? new Uint8Array(0);
  if (nodes.length !== levelCount(shape, level) * CV_BYTES || !equalBytes(rootOf(tree, nodes), hexToBytes(hex))) throw integrityFailure(rc, store, hex, "outboard top");
  return { shape, top: nodes };
}

/**
 * An object stored without an outboard (put whole, or before outboards existed): hash it all
 * once, streaming, and keep the outboard built on the way (`kept`: the store took it, it was
 * the first). Called only for objects of more than one group.
 */
async function buildOutboard(rc: CorrContext, store: ObjectStore, hex: string, size: number, tree: Blake3Tree, options: VerifiedReadOptions, inline: Uint8Array | null): Promise<{ top: VerifiedTop; kept: boolean }> {
  const shape = treeShape(size, options.groupBytes);
  const builder = new TreeBuilder(tree, shape, options.chunkBytes);
  if (inline) {
    // the whole object is in hand already (a small object's peek): no read of the store
    if (inline.length !== size) throw integrityFailure(rc, store, hex, "object length");
    for (let at = 0; at < size; at += options.chunkBytes) builder.add(inline.subarray(at, Math.min(at + options.chunkBytes, size)));
  } else {
    const stream = await store.readStream(hex, 0, size);
    if (!stream) throw new MissingObjectError(`b3:${hex}`);
    const reader = new ExactChunkReader(stream, options.chunkBytes);
    for (;;) {
      const chunk = await reader.next();
      if (chunk.length === 0) break;
      if (builder.filled + chunk.length > size) {
        await reader.cancel();
        throw integrityFailure(rc, store, hex, "object length");
      }
      builder.add(chunk);
    }
  }
  if (builder.filled !== size || !equalBytes(builder.root(), hexToBytes(hex))) throw integrityFailure(rc, store, hex, "object");
  const outboard = encodeOutboard(tree, shape, builder.groupLevel());
  const kept = await store.putOutboard(hex, outboard);
  const level = shape.topLevel;
  const at = levelOffset(shape, level);
  return { top: { shape, top: outboard.slice(at, at + levelCount(shape, level) * CV_BYTES) }, kept };
}

/** A one-group object: read whole (at most one group; `inline` when a peek brought it), hashed as the root. */
async function* wholeObject(rc: CorrContext, store: ObjectStore, hex: string, size: number, tree: Blake3Tree, start: number, end: number, inline: Uint8Array | null = null): AsyncGenerator<Uint8Array> {
  const bytes = inline ?? (await store.getRange(hex, 0, size));
  if (!bytes) throw new MissingObjectError(`b3:${hex}`);
  if (bytes.length !== size || !equalBytes(timedCV(rc, tree, bytes, 0, true), hexToBytes(hex))) throw integrityFailure(rc, store, hex, "object");
  if (end > start) yield bytes.subarray(start, end);
}

/** The groups covering `start..end`, each checked against its CV, trimmed to the range. */
async function* groupsOf(rc: CorrContext, store: ObjectStore, hex: string, verified: VerifiedTop, tree: Blake3Tree, start: number, end: number): AsyncGenerator<Uint8Array> {
  const { shape } = verified;
  const G = shape.groupBytes;
  if (end <= start) return;
  const first = Math.floor(start / G);
  const last = Math.floor((end - 1) / G);
  const cvs = new GroupCVs(rc, store, hex, verified, tree);
  await cvs.load(first); // the outboard is checked before the object is even opened
  const dataEnd = Math.min((last + 1) * G, shape.size);
  const stream = await store.readStream(hex, first * G, dataEnd - first * G);
  if (!stream) throw new MissingObjectError(`b3:${hex}`);
  const reader = new ExactChunkReader(stream, G);
  try {
    for (let group = first; group <= last; group++) {
      const bytes = await reader.next();
      const expected = Math.min(G, shape.size - group * G);
      const cv = await cvs.load(group);
      if (bytes.length !== expected || !equalBytes(timedCV(rc, tree, bytes, (group * G) / CHUNK_BYTES, false), cv)) throw integrityFailure(rc, store, hex, `group ${group}`);
      const from = Math.max(start - group * G, 0);
      const to = Math.min(end - group * G, bytes.length);
      yield bytes.subarray(from, to);
    }
  } finally {
    await reader.cancel();
  }
}

/** `groupsOf` over bytes already in memory (a small object's peek): each covering group checked against its CV. */
async function* groupsIn(rc: CorrContext, store: ObjectStore, hex: string, verified: VerifiedTop, tree: Blake3Tree, bytes: Uint8Array, start: number, end: number): AsyncGenerator<Uint8Array> {
  const { shape } = verified;
  const G = shape.groupBytes;
  if (end <= start) return;
  if (bytes.length !== shape.size) throw integrityFailure(rc, store, hex, "object length");
  const cvs = new GroupCVs(rc, store, hex, verified, tree);
  for (let group = Math.floor(start / G); group <= Math.floor((end - 1) / G); group++) {
    const piece = bytes.subarray(group * G, Math.min((group + 1) * G, shape.size));
    if (!equalBytes(timedCV(rc, tree, piece, (group * G) / CHUNK_BYTES, false), await cvs.load(group))) throw integrityFailure(rc, store, hex, `group ${group}`);
    yield piece.subarray(Math.max(start - group * G, 0), Math.min(end - group * G, piece.length));
  }
}

/**
 * Verified group CVs of recently read objects, a window (2^topLevel groups, ≈ √groups) per entry,
 * by store, address and window: a warm range (a tile of a large pack) then reads its groups only,
 * no outboard. CVs checked against the address never change for it, so holding them is safe.
 * At most 1 MiB per isolate (a 5 MiB object's windows are 512 B each).
 */
const windowCache = new ByteLru<Uint8Array>(1024 * 1024);

/** Group CVs read from the outboard a batch of windows at a time, each window checked against its top node. */
class GroupCVs {
  readonly #window: number;
  /** Windows checked during this read, by window index. */
  readonly #checked = new Map<number, Uint8Array>();

  constructor(
    private readonly rc: CorrContext,
    private readonly store: ObjectStore,
    private readonly hex: string,
    private readonly verified: VerifiedTop,
    private readonly tree: Blake3Tree,
  ) {
    this.#window = 2 ** verified.shape.topLevel;
  }

  /** The verified CV of `group`. */
  async load(group: number): Promise<Uint8Array> {
    if (this.verified.groups) return cvAt(this.verified.groups, group);
    const window = Math.floor(group / this.#window);
    const cvs = this.#checked.get(window) ?? windowCache.get(this.#key(window)) ?? (await this.#read(window));
    this.#checked.set(window, cvs);
    return cvAt(cvs, group - window * this.#window);
  }

  #key(window: number): string {
    return `${this.store.kind}:${this.hex}:${this.verified.shape.groupBytes}:${window}`;
  }

  /**
   * Read the group CVs of `window` and of the windows after it (up to BATCH_GROUPS), checking each
   * window against its top node; keeps those that match. Only `window` failing is an error here:
   * another bad window fails the reads that need it.
   */
  async #read(window: number): Promise<Uint8Array> {
    const { shape, top } = this.verified;
    const windows = Math.max(1, Math.floor(BATCH_GROUPS / this.#window));
    const from = window * this.#window;
    const to = Math.min(from + windows * this.#window, shape.groups);
    const level = await this.store.getOutboard(this.hex, levelOffset(shape, 0) + from * CV_BYTES, (to - from) * CV_BYTES);
    if (!level || level.length !== (to - from) * CV_BYTES) throw integrityFailure(this.rc, this.store, this.hex, "outboard groups");
    let wanted: Uint8Array | null = null;
    for (let w = from; w < to; w += this.#window) {
      const index = w / this.#window;
      const nodes = level.slice((w - from) * CV_BYTES, (Math.min(w + this.#window, to) - from) * CV_BYTES);
      if (!equalBytes(subtreeOf(this.tree, nodes), cvAt(top, index))) {
        if (index === window) throw integrityFailure(this.rc, this.store, this.hex, `outboard window ${index}`);
        continue;
      }
      if (index === window) wanted = nodes;
      this.#checked.set(index, nodes);
      windowCache.set(this.#key(index), nodes, nodes.length);
    }
    // every window of a small tree checked at once: the cached top keeps them all (no outboard read next time)
    if (from === 0 && to === shape.groups && shape.groups <= CACHED_GROUPS && this.#checked.size === Math.ceil(shape.groups / this.#window)) this.verified.groups = level;
    return wanted!;
  }
}
