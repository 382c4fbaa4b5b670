/**
 * @module The stream both kinds of upload share (a streamed object, a multipart part): the
 * request body read in exact `chunkBytes` chunks, each hashed into a tree builder as it passes,
 * one being read and at most one queued. A body that stops short of `size`, runs past it, or whose
 * client goes away errors before its last byte; so does `finish` (the address check, say), which
 * runs once every byte is in. A store reading it therefore never completes a write of other bytes.
 */
import { ExactChunkReader } from "../body/exact-chunks";
import { UploadError } from "../domain-errors";
import type { TreeBuilder } from "./tree-builder";

export interface HashedBodyPlan {
  size: number;
  chunkBytes: number;
  builder: TreeBuilder;
  /** The message of a body past `size`, and of one that ended after `filled` bytes. */
  tooLong: () => string;
  tooShort: (filled: number) => string;
  /** Runs once the last byte is hashed, before the stream closes; an UploadError it throws fails the body. */
  finish: () => void;
}

export class HashedBody {
  readonly body: ReadableStream<Uint8Array>;
  /** Why the body failed, once it has. */
  failure: UploadError | null = null;

  constructor(source: ReadableStream<Uint8Array>, plan: HashedBodyPlan, signal: AbortSignal) {
    const { size, chunkBytes, builder } = plan;
    const reader = new ExactChunkReader(source, chunkBytes);
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
            if (builder.filled + chunk.length > size) throw fail(new UploadError("long_body", plan.tooLong()));
            builder.add(chunk);
            if (builder.filled < size) {
              if (chunk.length < chunkBytes) throw fail(new UploadError("short_body", plan.tooShort(builder.filled)));
              controller.enqueue(chunk);
              return;
            }
            // every declared byte is in: the stream must end here
            if (chunk.length === chunkBytes && (await reader.next()).length > 0) throw fail(new UploadError("long_body", plan.tooLong()));
            try {
              plan.finish();
            } catch (error) {
              throw error instanceof UploadError ? fail(error) : error;
            }
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
}
