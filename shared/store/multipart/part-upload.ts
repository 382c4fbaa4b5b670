/**
 * @module One part of a multipart upload, hashed on its way into the store: the body is read in
 * `STREAM_CHUNK_BYTES` chunks, each hashed into the part's subtree at the part's chunk counter,
 * and passed on. A body that ends short of the part's length, or runs past it, errors before its
 * last byte, so the store never keeps it as the part. Once it has ended cleanly its CVs are ready:
 * the CVs of its verify groups (what the object's outboard is built from), or, when the whole
 * object is one group, the object's root.
 */
import { blake3Tree } from "../../blake3";
import type { UploadError } from "../../domain-errors";
import { HashedBody } from "../hashed-body";
import { treeShape } from "../outboard";
import { TreeBuilder } from "../tree-builder";
import { partFirstChunk, partLength, type PartLayout } from "./plan";

export interface PartPlan {
  layout: PartLayout;
  /** The part's number, from 1. */
  n: number;
  groupBytes: number;
  chunkBytes: number;
}

export class PartUpload {
  readonly n: number;
  readonly size: number;
  /** The part's bytes; errors (before the last of them) when they are not exactly the part. */
  readonly body: ReadableStream<Uint8Array>;
  readonly #hashed: HashedBody;
  #cvs: Uint8Array | null = null;

  constructor(source: ReadableStream<Uint8Array>, plan: PartPlan, signal: AbortSignal) {
    this.n = plan.n;
    this.size = partLength(plan.layout, plan.n);
    const size = this.size;
    const wholeObject = treeShape(plan.layout.size, plan.groupBytes).groups === 1;
    const builder = new TreeBuilder(blake3Tree(), treeShape(size, plan.groupBytes), plan.chunkBytes, partFirstChunk(plan.layout, plan.n));
    this.#hashed = new HashedBody(
      source,
      {
        size,
        chunkBytes: plan.chunkBytes,
        builder,
        tooLong: () => `part ${plan.n} runs past its ${size} bytes`,
        tooShort: (filled) => `part ${plan.n} ended after ${filled} of its ${size} bytes`,
        // a one-group object has no parent to carry a root flag: its only part keeps the root itself
        finish: () => void (this.#cvs = wholeObject ? builder.root() : builder.groupCVs()),
      },
      signal,
    );
    this.body = this.#hashed.body;
  }

  /** Why the body failed, once it has. */
  get failure(): UploadError | null {
    return this.#hashed.failure;
  }

  /** The part's group CVs (or the object's root, for a one-group object), once `body` ended cleanly. */
  cvs(): Uint8Array {
    if (!this.#cvs) throw new Error(`part ${this.n} is not complete`);
    return this.#cvs;
  }
}
