/** Helpers for overlay tests: real sessions into the micronode worker inside workerd, through the SDK. */
import { expect } from "vitest";
import { blake3, toHex } from "../shared/blake3";
import { decodeFrame, FLAGS, type Frame } from "../shared/oap/codec";
import { APP, frame, jsonBytes } from "../shared/overlay/protocol";
import { connectOverlay, type ConnectOptions, type OverlayClient } from "../sdk";
import type { WebSocketLike } from "../sdk/socket";
import { call, TOKEN } from "./helpers";

/** Upgrade `GET /overlay` and accept the client end (workerd's socket, no network). */
export async function openRawSocket(overrides: Record<string, string> = {}): Promise<WebSocket> {
  const response = await call("/overlay", { headers: { Upgrade: "websocket" } }, overrides);
  expect(response.status).toBe(101);
  const socket = response.webSocket!;
  socket.accept();
  return socket;
}

/** A full session through the SDK (handshake included). */
export async function openSession(options: Partial<ConnectOptions> = {}, overrides: Record<string, string> = {}): Promise<OverlayClient> {
  const socket = await openRawSocket(overrides);
  return connectOverlay({ socket: socket as unknown as WebSocketLike, blake3Hex: (bytes) => blake3().hashHex(bytes), token: TOKEN, ...options });
}

/** A session plus a log of every frame the server sent on it. */
export async function openWatchedSession(options: Partial<ConnectOptions> = {}, overrides: Record<string, string> = {}): Promise<{ client: OverlayClient; log: FrameLog }> {
  const socket = await openRawSocket(overrides);
  const log = new FrameLog(socket);
  const client = await connectOverlay({ socket: socket as unknown as WebSocketLike, blake3Hex: (bytes) => blake3().hashHex(bytes), token: TOKEN, ...options });
  return { client, log };
}

/** Records every frame and the close of a raw socket. */
export class FrameLog {
  frames: Frame[] = [];
  closed: { code: number; reason: string } | undefined;
  #waiters: (() => void)[] = [];

  constructor(readonly socket: WebSocket) {
    socket.addEventListener("message", (event) => {
      const decoded = decodeFrame(new Uint8Array(event.data as ArrayBuffer));
      if (!("needMore" in decoded)) this.frames.push(decoded.frame);
      this.#wake();
    });
    socket.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
      this.#wake();
    });
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Wait until `predicate` holds (or fail after `ms`). */
  async until(predicate: () => boolean, ms = 5_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!predicate()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`condition not met within ${ms} ms; frames: ${this.frames.length}, closed: ${JSON.stringify(this.closed)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

export const helloFrame = (payload: unknown, corrId = 1n) => frame({ flags: FLAGS.REQ, appProtoId: APP.CONTROL, corrId, payload: jsonBytes(payload) });

export const hexAddress = (bytes: Uint8Array) => `b3:${toHex(blake3().hash(bytes))}`;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The value of one series of /metrics (0 when absent), picked by name and a subset of labels. */
export async function metricValue(name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await call("/metrics")).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    const [series, value] = line.split(/ (?=[^ ]+$)/);
    if (series !== name && !series?.startsWith(`${name}{`)) continue;
    if (want.every((w) => series!.includes(w))) return Number(value);
  }
  return 0;
}
