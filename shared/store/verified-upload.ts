/**
 * @module A streamed upload checked against its address on the way through. The body is read in
 * `STREAM_CHUNK_BYTES` chunks (one being read, at most one queued for the store), each hashed
 * into the tree as it passes. The last chunk is held back until the root is known: if the bytes
 * do not hash to the address (or stop short, or run long, or the client goes away) the stream
 * errors before its last byte, so a store reading it never completes a write. Once it has ended
 * cleanly the outboard is ready.
 */
import { blake3Tree } from "../blake3";
import { UploadError } from "../domain-errors";
import { HashedBody } from "./hashed-body";
import type { StreamedPut } from "./object-store";
import { encodeOutboard, equalBytes, hexToBytes, outboardBytes, treeShape, type TreeShape } from "./outboard";
import { TreeBuilder } from "./tree-builder";

export interface UploadPlan {
  hex: string;
  /** Declared length (Content-Length). */
  size: number;
  contentType: string;
  groupBytes: number;
  chunkBytes: number;
}

export class VerifiedUpload implements StreamedPut {
  readonly size: number;
  readonly contentType: string;
  readonly shape: TreeShape;
  /** The object's bytes; errors (before the last of them) when the upload cannot be stored. */
  readonly body: ReadableStream<Uint8Array>;
  readonly #hashed: HashedBody;
  #outboard: Uint8Array | null = null;

  constructor(source: ReadableStream<Uint8Array>, plan: UploadPlan, signal: AbortSignal) {
    this.size = plan.size;
    this.contentType = plan.contentType;
    this.shape = treeShape(plan.size, plan.groupBytes);
    const tree = blake3Tree();
    const builder = new TreeBuilder(tree, this.shape, plan.chunkBytes);
    const expected = hexToBytes(plan.hex);
    this.#hashed = new HashedBody(
      source,
      {
        size: plan.size,
        chunkBytes: plan.chunkBytes,
        builder,
        tooLong: () => `body runs past its Content-Length of ${plan.size} bytes`,
        tooShort: (filled) => `body ended after ${filled} of its ${plan.size} declared bytes`,
        finish: () => {
          if (!equalBytes(builder.root(), expected)) throw new UploadError("address_mismatch", `the body does not hash to b3:${plan.hex}`);
          this.#outboard = encodeOutboard(tree, this.shape, builder.groupLevel());
        },
      },
      signal,
    );
    this.body = this.#hashed.body;
  }

  /** Why the body failed, once it has. */
  get failure(): UploadError | null {
    return this.#hashed.failure;
  }

  get outboardBytes(): number {
    return outboardBytes(this.shape);
  }

  /** The outboard (header and tree levels), once `body` has ended cleanly. */
  outboard(): Uint8Array {
    if (!this.#outboard) throw new Error("outboard is not ready: the upload has not completed");
    return this.#outboard;
  }

  /** Read the body to its end without storing it (the object is already held); throws its failure. */
  async verifyOnly(): Promise<void> {
    const reader = this.body.getReader();
    try {
      while (!(await reader.read()).done);
    } catch (error) {
      throw this.failure ?? error;
    }
  }
}
