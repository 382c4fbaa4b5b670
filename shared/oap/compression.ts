/**
 * @module COMP payloads: zstd, inflated under a bound of 10 × their wire size and the maximum
 * frame size, through the same streaming, capped decoder as request bodies, so a bomb stops at
 * the bound.
 */
import { readDecodedBody } from "../body/read-body";
import { DecodeError } from "../domain-errors";
import { FLAGS, MAX_FRAME, OapError, type Frame } from "./codec";

export const COMP_RATIO_CAP = 10;

/** The frame's payload, inflated when COMP is set. Too large: FrameTooLarge; corrupt: DecodeError. */
export async function framePayload(frame: Frame, signal: AbortSignal = new AbortController().signal): Promise<Uint8Array> {
  if (!(frame.flags & FLAGS.COMP)) return frame.payload;
  const limits = { maxWireBytes: MAX_FRAME, ratioCap: COMP_RATIO_CAP, maxDecodedBytes: MAX_FRAME };
  try {
    return (await readDecodedBody(new Blob([frame.payload]).stream(), "zstd", limits, signal, frame.payload.length)).bytes;
  } catch (error) {
    if (error instanceof DecodeError && error.kind === "too_large") throw new OapError("FrameTooLarge", `COMP payload inflates past ${COMP_RATIO_CAP}× its size or ${MAX_FRAME} bytes`);
    throw new DecodeError("malformed", "corrupt_comp", `corrupt COMP payload: ${(error as Error)?.message ?? error}`);
  }
}
