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

const BASE = { code: 200, appProtoId: APP.OBJECT } as const;

/** START (with END for an empty object). */
export function objectStartFrame(address: string, size: number, corrId: bigint, chunk: number): Uint8Array {
  const start: ObjectStart = { addr: address, size, chunk };
  return frame({ ...BASE, corrId, flags: FLAGS.RESP | FLAGS.START | FLAGS.ACK_REQ | (size ? 0 : FLAGS.END), payload: jsonBytes(start) });
}

/** One chunk of the bytes; `last` flags END. */
export function objectChunkFrame(bytes: Uint8Array, corrId: bigint, last: boolean): Uint8Array {
  return frame({ ...BASE, corrId, flags: FLAGS.RESP | FLAGS.ACK_REQ | (last ? FLAGS.END : 0), payload: bytes });
}

/** All of an object's frames, from its bytes in hand. */
export function objectFrames(address: string, bytes: Uint8Array, corrId: bigint, chunk: number): (() => Uint8Array)[] {
  const frames = [() => objectStartFrame(address, bytes.length, corrId, chunk)];
  for (let at = 0; at < bytes.length; at += chunk) {
    const end = Math.min(bytes.length, at + chunk);
    frames.push(() => objectChunkFrame(bytes.subarray(at, end), corrId, end === bytes.length));
  }
  return frames;
}
