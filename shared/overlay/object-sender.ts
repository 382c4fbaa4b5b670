/**
 * @module An opened object sent as its response stream (docs/OAP1.md §5) while it is read: START,
 * then frames of `chunk` bytes cut from the verified groups as the store hands them over, the last
 * flagged END. Frames wait for credit in the send window, and the next chunk is read only once at
 * most `READ_AHEAD_FRAMES` are waiting, so a session holds a few chunks of an object, not all of it.
 * A group that fails its check mid-way stops the stream: the frames already queued go out, then
 * the failure is handed to the session (an error frame in place of the rest; never END).
 */
import { ExactChunkReader } from "../body/exact-chunks";
import type { OpenedObject } from "./object-fetch";
import { objectChunkFrame, objectStartFrame } from "./object-frames";
import type { Outgoing } from "./peer-flow";

/** Where the frames go: the session's send window (frames wait there for credit). */
export interface FrameQueue {
  push(bytes: Outgoing, onSent?: () => void): void;
}

/** Chunks read ahead of the peer's credit, at most. */
const READ_AHEAD_FRAMES = 2;

/**
 * Send `object` under `corrId`; resolves once its last frame (or, after a failure, the last frame
 * queued before it) has gone out, having handed any failure to `fail`.
 */
export async function sendObject(queue: FrameQueue, object: OpenedObject, corrId: bigint, chunk: number, fail: (error: unknown) => void): Promise<void> {
  const sent: Promise<void>[] = [];
  const push = (encode: () => Uint8Array) => sent.push(new Promise<void>((resolve) => queue.push(encode, resolve)));
  push(() => objectStartFrame(object.address, object.size, corrId, chunk));
  const { body } = object;
  if (body instanceof Uint8Array) {
    // a small object, checked whole already: its frames are slices of it
    for (let at = 0; at < body.length; at += chunk) {
      const end = Math.min(body.length, at + chunk);
      push(() => objectChunkFrame(body.subarray(at, end), corrId, end === body.length));
    }
    await Promise.all(sent);
    return;
  }
  const reader = new ExactChunkReader(body, chunk);
  try {
    for (let at = 0; at < object.size; ) {
      if (sent.length >= READ_AHEAD_FRAMES) await sent[sent.length - READ_AHEAD_FRAMES]; // wait for credit before reading on
      const bytes = await reader.next(); // a group that fails its check rejects here
      if (bytes.length === 0) throw new Error(`object stream ended after ${at} of ${object.size} bytes`);
      at += bytes.length;
      const last = at >= object.size;
      push(() => objectChunkFrame(bytes, corrId, last));
    }
    await Promise.all(sent);
  } catch (error) {
    await reader.cancel();
    await Promise.all(sent); // what was verified goes out first, then the failure ends the stream
    fail(error);
  }
}

