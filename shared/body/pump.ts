/**
 * @module Copying a stream into a writable (a FixedLengthStream a store reads) with every promise
 * observed: a source that errors aborts the writable with its error, and nothing is left as an
 * unhandled rejection (workerd reports those of a plain `pipeTo` into its own streams).
 */

/** Copy `source` into `writable`, then `after` (more writes), then close; resolves when done or failed. */
export async function pump(source: ReadableStream<Uint8Array>, writable: WritableStream<Uint8Array>, after?: (writer: WritableStreamDefaultWriter<Uint8Array>) => Promise<void>): Promise<void> {
  const writer = writable.getWriter();
  writer.closed.catch(() => {});
  writer.ready.catch(() => {});
  const reader = source.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      await writer.write(value);
    }
    await after?.(writer);
    await writer.close();
  } catch (error) {
    await writer.abort(error).catch(() => {});
    await reader.cancel(error).catch(() => {});
  }
}
