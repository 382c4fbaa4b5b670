/**
 * @module COMP payloads: zstd, inflated under a bound of 10 × their wire size and the maximum
 * frame size, streaming, so a bomb stops at the bound.
 */
import { createDecoder, DecodedTooLarge } from "../body/decoders";
import { FLAGS, MAX_FRAME, OapError, type Frame } from "./codec";

export const COMP_RATIO_CAP = 10;

/** The frame's payload, inflated when COMP is set. Too large: FrameTooLarge; corrupt: a plain Error. */
export async function framePayload(frame: Frame): Promise<Uint8Array> {
  if (!(frame.flags & FLAGS.COMP)) return frame.payload;
  const cap = Math.min(MAX_FRAME, COMP_RATIO_CAP * frame.payload.length);
  const decoder = createDecoder("zstd", cap);
  const writer = decoder.writable.getWriter();
  writer.write(frame.payload).catch(() => {});
  writer.close().catch(() => {});
  const reader = decoder.readable.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > cap) throw new DecodedTooLarge(cap);
      chunks.push(value);
    }
  } catch (error) {
    void reader.cancel().catch(() => {});
    if (error instanceof DecodedTooLarge) throw new OapError("FrameTooLarge", `COMP payload inflates past ${cap} bytes`);
    throw new Error(`corrupt COMP payload: ${(error as Error)?.message ?? error}`);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
