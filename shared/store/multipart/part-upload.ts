/**
 * @module One part of a multipart upload, hashed on its way into the store: the body is read in
 * `STREAM_CHUNK_BYTES` chunks, each hashed into the part's subtree at the part's chunk counter,
 * and passed on. A body that ends short of the part's length, or runs past it, errors before its
 * last byte, so the store never keeps it as the part. Once it has ended cleanly its CVs are ready:
 * the CVs of its verify groups (what the object's outboard is built from), or, when the whole
 * object is one group, the object's root.
 */
import { blake3Tree } from "../../blake3";
import { ExactChunkReader } from "../../body/exact-chunks";
import { UploadError } from "../../domain-errors";
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
  failure: UploadError | null = null;
  #cvs: Uint8Array | null = null;

  constructor(source: ReadableStream<Uint8Array>, plan: PartPlan, signal: AbortSignal) {
    this.n = plan.n;
    this.size = partLength(plan.layout, plan.n);
    const wholeObject = treeShape(plan.layout.size, plan.groupBytes).groups === 1;
    const builder = new TreeBuilder(blake3Tree(), treeShape(this.size, plan.groupBytes), plan.chunkBytes, partFirstChunk(plan.layout, plan.n));
    const reader = new ExactChunkReader(source, plan.chunkBytes);
    const fail = (error: UploadError) => {
      this.failure ??= error;
      void reader.cancel();
      return this.failure;
    };
    const onAbort = () => void reader.cancel(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    const size = this.size;

    this.body = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          try {
            const chunk = await reader.next();
            if (signal.aborted) throw fail(new UploadError("unreadable", "the request was aborted"));
            if (builder.filled + chunk.length > size) throw fail(new UploadError("long_body", `part ${plan.n} runs past its ${size} bytes`));
            builder.add(chunk);
            if (builder.filled < size) {
              if (chunk.length < plan.chunkBytes) throw fail(new UploadError("short_body", `part ${plan.n} ended after ${builder.filled} of its ${size} bytes`));
              controller.enqueue(chunk);
              return;
            }
            if (chunk.length === plan.chunkBytes && (await reader.next()).length > 0) throw fail(new UploadError("long_body", `part ${plan.n} runs past its ${size} bytes`));
            // a one-group object has no parent to carry a root flag: its only part keeps the root itself
            this.#cvs = wholeObject ? builder.root() : builder.groupCVs();
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

  /** The part's group CVs (or the object's root, for a one-group object), once `body` ended cleanly. */
  cvs(): Uint8Array {
    if (!this.#cvs) throw new Error(`part ${this.n} is not complete`);
    return this.#cvs;
  }
}
