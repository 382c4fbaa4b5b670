/**
 * @module A streamed upload checked against its address on the way through. The body is read in
 * `STREAM_CHUNK_BYTES` chunks (one being read, at most one queued for the store), each hashed
 * into the tree as it passes. The last chunk is held back until the root is known: if the bytes
 * do not hash to the address (or stop short, or run long, or the client goes away) the stream
 * errors before its last byte, so a store reading it never completes a write. Once it has ended
 * cleanly the outboard is ready.
 */
import { blake3Tree } from "../blake3";
import { ExactChunkReader } from "../body/exact-chunks";
import { UploadError } from "../domain-errors";
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
  /** Why the body failed, once it has. */
  failure: UploadError | null = null;
  #outboard: Uint8Array | null = null;

  constructor(source: ReadableStream<Uint8Array>, plan: UploadPlan, signal: AbortSignal) {
    this.size = plan.size;
    this.contentType = plan.contentType;
    this.shape = treeShape(plan.size, plan.groupBytes);
    const tree = blake3Tree();
    const builder = new TreeBuilder(tree, this.shape, plan.chunkBytes);
    const reader = new ExactChunkReader(source, plan.chunkBytes);
    const expected = hexToBytes(plan.hex);
    const fail = (error: UploadError) => {
      this.failure ??= error;
      void reader.cancel();
      return this.failure;
    };
    const onAbort = () => void reader.cancel(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });

    this.body = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          try {
            const chunk = await reader.next();
            if (signal.aborted) throw fail(new UploadError("unreadable", "the request was aborted"));
            if (builder.filled + chunk.length > plan.size) throw fail(new UploadError("long_body", `body runs past its Content-Length of ${plan.size} bytes`));
            builder.add(chunk);
            if (builder.filled < plan.size) {
              if (chunk.length < plan.chunkBytes) throw fail(new UploadError("short_body", `body ended after ${builder.filled} of its ${plan.size} declared bytes`));
              controller.enqueue(chunk);
              return;
            }
            // every declared byte is in: the stream must end here, and hash to the address
            if (chunk.length === plan.chunkBytes && (await reader.next()).length > 0) {
              throw fail(new UploadError("long_body", `body runs past its Content-Length of ${plan.size} bytes`));
            }
            if (!equalBytes(builder.root(), expected)) throw fail(new UploadError("address_mismatch", `the body does not hash to b3:${plan.hex}`));
            this.#outboard = encodeOutboard(tree, this.shape, builder.groupLevel());
            if (chunk.length > 0) controller.enqueue(chunk);
            signal.removeEventListener("abort", onAbort);
            controller.close();
          } catch (error) {
            signal.removeEventListener("abort", onAbort);
            controller.error(error instanceof UploadError ? error : fail(new UploadError("unreadable", "the request body could not be read")));
          }
        },
        cancel: (reason) => {
          signal.removeEventListener("abort", onAbort);
          fail(new UploadError("unreadable", `the store stopped reading: ${String(reason)}`));
        },
      },
      { highWaterMark: 1 },
    );
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
