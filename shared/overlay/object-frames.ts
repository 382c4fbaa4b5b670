/**
 * @module An object as a response stream (docs/OAP1.md §5): RESP|START with `{addr,size,chunk}`,
 * then the bytes in chunks, the last one flagged END (a 0-byte object is one START|END frame).
 * Every frame asks for an ACK (credit). Frames are thunks: encoded only when credit lets them go.
 */
import { FLAGS } from "../oap/codec";
import { APP, frame, jsonBytes } from "./protocol";

export interface ObjectStart {
  addr: string;
  size: number;
  chunk: number;
}

export function objectFrames(address: string, bytes: Uint8Array, corrId: bigint, chunk: number): (() => Uint8Array)[] {
  const base = { code: 200, appProtoId: APP.OBJECT, corrId };
  const start: ObjectStart = { addr: address, size: bytes.length, chunk };
  const frames = [() => frame({ ...base, flags: FLAGS.RESP | FLAGS.START | FLAGS.ACK_REQ | (bytes.length ? 0 : FLAGS.END), payload: jsonBytes(start) })];
  for (let at = 0; at < bytes.length; at += chunk) {
    const end = Math.min(bytes.length, at + chunk);
    const last = end === bytes.length;
    frames.push(() => frame({ ...base, flags: FLAGS.RESP | FLAGS.ACK_REQ | (last ? FLAGS.END : 0), payload: bytes.subarray(at, end) }));
  }
  return frames;
}
