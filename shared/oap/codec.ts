/**
 * @module OAP/1 framing (DESIGN.md §7), wire-compatible with the RustyOnions `oap` crate: a
 * 38-byte big-endian header, an optional capability (START frames only) and an opaque payload.
 * Pure: bytes in, frames out. Errors are `OapError` (a domain error) with the crate's names.
 */
import { DomainError } from "../domain-errors";

export const OAP_VERSION = 1;
export const HEADER_LEN = 38;
export const MAX_FRAME = 1_048_576;
export const MAX_CAP = 0xffff;

export const FLAGS = {
  REQ: 0x01,
  RESP: 0x02,
  EVENT: 0x04,
  START: 0x08,
  END: 0x10,
  ACK_REQ: 0x20,
  /** The payload is zstd-compressed. */
  COMP: 0x40,
  APP_E2E: 0x80,
} as const;

export type OapErrorName = "NeedMore" | "TruncatedHeader" | "BadVersion" | "BadFlags" | "CapOnNonStart" | "FrameTooLarge" | "CapOutOfBounds";

export class OapError extends DomainError {
  constructor(
    readonly kind: OapErrorName,
    message: string,
  ) {
    super(kind, message);
    this.name = "OapError";
  }
}

export interface Frame {
  ver: number;
  flags: number;
  /** 0 on requests; an HTTP-like status on responses. */
  code: number;
  appProtoId: number;
  tenantId: bigint;
  corrId: bigint;
  cap: Uint8Array;
  payload: Uint8Array;
}

const U64 = (1n << 64n) - 1n;
const U128 = (1n << 128n) - 1n;

/** Serialise a frame; len and cap_len are computed here. */
export function encodeFrame(frame: Frame): Uint8Array {
  if (frame.cap.length > MAX_CAP) throw new OapError("CapOutOfBounds", `cap of ${frame.cap.length} bytes exceeds ${MAX_CAP}`);
  const len = HEADER_LEN + frame.cap.length + frame.payload.length;
  if (len > MAX_FRAME) throw new OapError("FrameTooLarge", `frame of ${len} bytes exceeds ${MAX_FRAME}`);
  if (!Number.isInteger(frame.flags) || frame.flags < 0 || frame.flags > 0xff) throw new OapError("BadFlags", `flags 0x${frame.flags.toString(16)} use reserved bits`);
  if (frame.ver !== OAP_VERSION) throw new OapError("BadVersion", `version ${frame.ver} is not ${OAP_VERSION}`);
  if (frame.cap.length > 0 && !(frame.flags & FLAGS.START)) throw new OapError("CapOnNonStart", "a capability may only ride on a START frame");
  if (frame.tenantId < 0n || frame.tenantId > U128 || frame.corrId < 0n || frame.corrId > U64) throw new RangeError("tenant_id is u128 and corr_id is u64");
  for (const [name, v] of [["code", frame.code], ["app_proto_id", frame.appProtoId]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`${name} must be a u16`);
  }
  const out = new Uint8Array(len);
  const view = new DataView(out.buffer);
  view.setUint32(0, len);
  view.setUint16(4, frame.ver);
  view.setUint16(6, frame.flags);
  view.setUint16(8, frame.code);
  view.setUint16(10, frame.appProtoId);
  view.setBigUint64(12, frame.tenantId >> 64n);
  view.setBigUint64(20, frame.tenantId & U64);
  view.setUint16(28, frame.cap.length);
  view.setBigUint64(30, frame.corrId);
  out.set(frame.cap, HEADER_LEN);
  out.set(frame.payload, HEADER_LEN + frame.cap.length);
  return out;
}

export type DecodeResult = { frame: Frame; consumed: number } | { needMore: true };

/**
 * Decode the first frame of `buf`. Checks run in the crate's order, from the header alone where
 * possible (an oversize len is refused before its body arrives). `TruncatedHeader` consumes the
 * `len` bytes it declared (`error.consumed`).
 */
export function decodeFrame(buf: Uint8Array): DecodeResult {
  if (buf.length < HEADER_LEN) return { needMore: true };
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const len = view.getUint32(0);
  const ver = view.getUint16(4);
  const flags = view.getUint16(6);
  const capLen = view.getUint16(28);
  if (flags & 0xff00) throw new OapError("BadFlags", `flags 0x${flags.toString(16)} use reserved bits 8-15`);
  if (ver !== OAP_VERSION) throw new OapError("BadVersion", `version ${ver} is not ${OAP_VERSION}`);
  if (len === 0 || len > MAX_FRAME) throw new OapError("FrameTooLarge", `frame length ${len} is outside 1..=${MAX_FRAME}`);
  if (capLen > 0 && !(flags & FLAGS.START)) throw new OapError("CapOnNonStart", "a capability on a non-START frame");
  if (buf.length < len) return { needMore: true };
  if (len < HEADER_LEN) throw Object.assign(new OapError("TruncatedHeader", `frame length ${len} is shorter than the ${HEADER_LEN}-byte header`), { consumed: len });
  if (HEADER_LEN + capLen > len) throw new OapError("CapOutOfBounds", `cap of ${capLen} bytes does not fit a ${len}-byte frame`);
  const frame: Frame = {
    ver,
    flags,
    code: view.getUint16(8),
    appProtoId: view.getUint16(10),
    tenantId: (view.getBigUint64(12) << 64n) | view.getBigUint64(20),
    corrId: view.getBigUint64(30),
    cap: buf.slice(HEADER_LEN, HEADER_LEN + capLen),
    payload: buf.slice(HEADER_LEN + capLen, len),
  };
  return { frame, consumed: len };
}

/** Decodes a byte stream split anywhere into frames, in order. */
export class FrameDecoder {
  #buffer = new Uint8Array(0);

  /** Append bytes; returns every complete frame. Throws OapError on a bad frame. */
  push(chunk: Uint8Array): Frame[] {
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer);
    joined.set(chunk, this.#buffer.length);
    this.#buffer = joined;
    const frames: Frame[] = [];
    for (;;) {
      let result: DecodeResult;
      try {
        result = decodeFrame(this.#buffer);
      } catch (error) {
        const consumed = (error as { consumed?: number }).consumed;
        if (consumed !== undefined) this.#buffer = this.#buffer.slice(consumed);
        throw error;
      }
      if ("needMore" in result) return frames;
      frames.push(result.frame);
      this.#buffer = this.#buffer.slice(result.consumed);
    }
  }

  /** Bytes held waiting for the rest of a frame. */
  get buffered(): number {
    return this.#buffer.length;
  }
}
