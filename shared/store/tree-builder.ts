/**
 * @module Building an object's tree as its bytes stream past: each aligned piece (a group, or a
 * power-of-two slice of one) becomes a subtree CV at once, so nothing but the CVs is kept. At the
 * end: the root (the address) and the group level the outboard is made of.
 */
import type { Blake3Tree } from "../blake3";
import { CHUNK_BYTES, CV_BYTES, cvAt, rootOf, subtreeOf, type TreeShape } from "./outboard";

export class TreeBuilder {
  readonly #pieceBytes: number;
  readonly #pieces: Uint8Array;
  readonly #pieceCount: number;
  #next = 0;
  #filled = 0;
  /** The bytes of a one-piece object: its root is hashed over them with the root flag. */
  #only: Uint8Array | null = null;

  /**
   * `pieceBytes`: a power of two ≥ 1 KiB that feeds arrive in multiples of (the last may be short).
   * `firstChunk`: where these bytes start in the object, in 1 KiB chunks (a multipart upload's
   * part starts past 0; then only `groupCVs` applies, never `root`).
   */
  constructor(
    private readonly tree: Blake3Tree,
    private readonly shape: TreeShape,
    pieceBytes: number,
    private readonly firstChunk = 0,
  ) {
    this.#pieceBytes = Math.min(pieceBytes, shape.groupBytes);
    this.#pieceCount = Math.max(1, Math.ceil(shape.size / this.#pieceBytes));
    this.#pieces = new Uint8Array(this.#pieceCount * CV_BYTES);
  }

  get filled(): number {
    return this.#filled;
  }

  /** Hash `bytes`, the next bytes of the object; every feed but the last is whole pieces. */
  add(bytes: Uint8Array): void {
    if (this.#filled % this.#pieceBytes !== 0) throw new RangeError("only the last feed may end inside a piece");
    if (this.#filled + bytes.length > this.shape.size) throw new RangeError("more bytes than the object's size");
    for (let at = 0; at < bytes.length; at += this.#pieceBytes) {
      const piece = bytes.subarray(at, at + this.#pieceBytes);
      if (this.#pieceCount === 1) this.#only = piece.slice();
      else this.#pieces.set(this.tree.subtreeCV(piece, this.firstChunk + (this.#next * this.#pieceBytes) / CHUNK_BYTES, false), this.#next * CV_BYTES);
      this.#next++;
    }
    this.#filled += bytes.length;
  }

  /** The root hash (the address) once all `size` bytes are in. */
  root(): Uint8Array {
    this.#requireComplete();
    if (this.firstChunk !== 0) throw new RangeError("only a tree that starts at chunk 0 has a root");
    if (this.#pieceCount === 1) return this.tree.subtreeCV(this.#only ?? new Uint8Array(0), 0, true);
    return rootOf(this.tree, this.#pieces);
  }

  /** The groups' CVs, packed (empty for a one-group object: the root stands for it). */
  groupLevel(): Uint8Array {
    this.#requireComplete();
    if (this.shape.groups === 1) return new Uint8Array(0);
    const perGroup = this.shape.groupBytes / this.#pieceBytes;
    if (perGroup === 1) return this.#pieces;
    const out = new Uint8Array(this.shape.groups * CV_BYTES);
    for (let group = 0; group < this.shape.groups; group++) {
      const first = group * perGroup;
      const last = Math.min(first + perGroup, this.#pieceCount);
      const cv = last - first === 1 ? cvAt(this.#pieces, first) : subtreeOf(this.tree, this.#pieces.subarray(first * CV_BYTES, last * CV_BYTES));
      out.set(cv, group * CV_BYTES);
    }
    return out;
  }

  /** The groups' CVs, packed, never the root: one CV even for one group (a part of a larger object). */
  groupCVs(): Uint8Array {
    this.#requireComplete();
    if (this.shape.groups > 1) return this.groupLevel();
    if (this.#pieceCount > 1) return subtreeOf(this.tree, this.#pieces);
    return this.tree.subtreeCV(this.#only ?? new Uint8Array(0), this.firstChunk, false);
  }

  #requireComplete(): void {
    if (this.#filled !== this.shape.size) throw new RangeError(`tree has ${this.#filled} of ${this.shape.size} bytes`);
  }
}
