/** @module Byte helpers shared by body reading, OAP/1 and live fill. */

/** One array holding `chunks` in order (the first chunk itself when there is only one). */
export function joinChunks(chunks: readonly Uint8Array[], total = chunks.reduce((n, c) => n + c.length, 0)): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
