/**
 * @module The overlay client: open a session (HELLO → READY → CONFIRM, classical or hybrid
 * post-quantum), fetch objects verified with BLAKE3, publish and subscribe to gossip. Runs in
 * browsers, Node (global WebSocket, or pass `ws`), and workerd (pass an accepted socket). In Node
 * HELLO rides in the upgrade's `OAP-Hello` header, so a session costs one round trip
 * (docs/OAP1.md §2); browsers cannot set headers and send it as the first frame.
 */
import { blake3 } from "@noble/hashes/blake3.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { joinChunks } from "../shared/bytes";
import { decodeFrame, FLAGS, type Frame } from "../shared/oap/codec";
import { startClientHandshake, type ClientHandshake, type ClientHandshakeOptions } from "../shared/overlay/handshake";
import { encodeHelloHeader, HEADER_HELLO_CORR_ID, HELLO_HEADER } from "../shared/overlay/hello-header";
import type { ObjectStart } from "../shared/overlay/object-frames";
import { APP, decodeGossipPayload, encodeGossipPayload, frame, jsonBytes, parseJsonBytes, type ErrorPayload, type Ready } from "../shared/overlay/protocol";
import { createSocket, openSocket, UpgradeRefusedError, type WebSocketConstructorLike, type WebSocketLike } from "./socket";

export interface ConnectOptions extends ClientHandshakeOptions {
  /** `ws://host:port/overlay` (or wss://); ignored when `socket` is given. */
  url?: string;
  /** An open socket (e.g. workerd's `response.webSocket` after `accept()`). */
  socket?: WebSocketLike;
  /** WebSocket implementation when the platform has none (Node 20: the `ws` package). */
  WebSocket?: WebSocketConstructorLike;
  /**
   * Second constructor argument for implementations that take options (the `ws` package).
   * With `ws`, pass `{ perMessageDeflate: false }`: deflating binary frames costs far more than it
   * saves (docs/PERFORMANCE.md). Not for browsers, whose second argument is protocols.
   */
  socketOptions?: object;
  /** Give up on the handshake after this long (default 5 s). */
  handshakeTimeoutMs?: number;
  /** Give up on one request after this long (default 10 s). */
  requestTimeoutMs?: number;
  /** BLAKE3 hex of bytes, for fetch verification (default: @noble/hashes). */
  blake3Hex?: (bytes: Uint8Array) => string;
  /** Send credit by hand with `credit()` (tests of the send window); default automatic. */
  manualCredit?: boolean;
  /** Replace the CONFIRM payload before it is sent (tests of key confirmation). */
  tamperConfirm?: (confirm: Uint8Array) => Uint8Array;
  /**
   * Wait for the server's answer to CONFIRM before `connectOverlay` resolves (one more round
   * trip). Default false: the session is usable as soon as CONFIRM is sent, since the server
   * checks CONFIRM before any frame behind it; `confirmed` settles when the answer arrives.
   */
  awaitConfirm?: boolean;
  /**
   * Send HELLO in the upgrade's `OAP-Hello` header and take READY as the first frame: one round
   * trip instead of two. Default: on in Node when the SDK opens the socket (`url`; the WebSocket
   * implementation must pass `headers` from its options, as `ws` and Node's own do); off in
   * browsers, which cannot set headers. A refused HELLO is then an HTTP refusal (`OverlayError`
   * with its status and reason when the implementation shows it, as `ws` does).
   */
  helloInUpgrade?: boolean;
  /** `socket` was opened with `upgradeHello.headers` on its upgrade: wait for READY instead of sending HELLO. */
  upgradeHello?: UpgradeHello;
}

/** A HELLO made before the upgrade: open the socket with `headers`, then pass this as `upgradeHello`. */
export interface UpgradeHello {
  headers: Record<string, string>;
  handshake: ClientHandshake;
}

/** Key shares and HELLO for the upgrade's header (for sockets the caller opens, e.g. in workerd). */
export async function prepareUpgradeHello(options: ClientHandshakeOptions = {}): Promise<UpgradeHello> {
  const handshake = await startClientHandshake(options);
  return { headers: { [HELLO_HEADER]: encodeHelloHeader(handshake.hello) }, handshake };
}

const runsInNode = () => typeof (globalThis as { process?: { versions?: { node?: unknown } } }).process?.versions?.node === "string";

export interface GossipEvent {
  topic: string;
  id: string;
  data: Uint8Array;
  /** Messages on this topic the server skipped for this session since its previous event (it had no credit). */
  missed?: number;
}

export interface PublishResult {
  id: string;
  duplicate: boolean;
  subscribers: number;
}

/** A refusal from the server: the frame's status code and the payload's reason. */
export class OverlayError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = "OverlayError";
  }
}

/** The session closed (or never opened) before the answer came. */
export class OverlayClosedError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {
    super(`overlay session closed (${code} ${reason})`);
    this.name = "OverlayClosedError";
  }
}

/** Fetched bytes whose BLAKE3 does not match the address asked for. */
export class IntegrityError extends Error {
  constructor(address: string, actual: string) {
    super(`fetched bytes hash to b3:${actual}, not ${address}`);
    this.name = "IntegrityError";
  }
}

type FrameHandler = (frame: Frame) => void;

interface Pending {
  onFrame: FrameHandler;
  fail: (error: Error) => void;
}

const defaultBlake3Hex = (bytes: Uint8Array) => bytesToHex(blake3(bytes));

export async function connectOverlay(options: ConnectOptions): Promise<OverlayClient> {
  if (options.upgradeHello) {
    if (!options.socket) throw new Error("upgradeHello needs the socket its headers opened");
    // listen before yielding: READY may already be on its way
    const client = new OverlayClient(options.socket, options);
    return settle(client, client.handshake(options, options.upgradeHello.handshake, true));
  }
  if (!options.socket && (options.helloInUpgrade ?? runsInNode())) return connectWithHeaderHello(options);
  // Generate the key shares while the socket opens: the ML-KEM keygen overlaps the round trips.
  const opening = options.socket ? Promise.resolve(options.socket) : openSocket(options.url ?? "", options.WebSocket, options.socketOptions);
  opening.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
  const prepared = await startClientHandshake(options);
  const client = new OverlayClient(await opening, options);
  return settle(client, client.handshake(options, prepared));
}

/** One round trip: HELLO in the upgrade's header, READY as the socket's first frame, then CONFIRM. */
async function connectWithHeaderHello(options: ConnectOptions): Promise<OverlayClient> {
  const upgrade = await prepareUpgradeHello(options);
  const base = options.socketOptions as { headers?: Record<string, string> } | undefined;
  const { socket, opened } = createSocket(options.url ?? "", options.WebSocket, { ...base, headers: { ...base?.headers, ...upgrade.headers } });
  const client = new OverlayClient(socket, options);
  const handshaking = client.handshake(options, upgrade.handshake, true);
  handshaking.catch(() => undefined); // a refused upgrade fails it too; the refusal is the error to report
  try {
    await opened;
  } catch (error) {
    client.close(1000, "handshake failed");
    if (error instanceof UpgradeRefusedError) throw new OverlayError(error.status, error.envelope.reason ?? "upgrade_refused", error.envelope.message ?? error.message);
    throw error;
  }
  return settle(client, handshaking);
}

/** The client once its handshake is done; closed if the handshake failed. */
async function settle(client: OverlayClient, handshaking: Promise<void>): Promise<OverlayClient> {
  try {
    await handshaking;
  } catch (error) {
    client.close(1000, "handshake failed");
    throw error;
  }
  return client;
}

export class OverlayClient {
  session!: Ready;
  sessionKey!: Uint8Array;
  /** Resolves when the socket closes, with the server's code and reason. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /**
   * Settles with the server's answer to CONFIRM: resolves when it accepted the client's key
   * confirmation, rejects (e.g. 401 `bad_confirm`) when it refused it and closed the session.
   */
  confirmed: Promise<void> = Promise.resolve();
  /** Called when the server drops this session from a topic (it kept no credit for deliveries). */
  onEvicted?: (topic: string) => void;

  #socket: WebSocketLike;
  #nextCorr = 1n;
  #pending = new Map<bigint, Pending>();
  #topics = new Map<string, (event: GossipEvent) => void>();
  #unacked = 0;
  #creditTimer: ReturnType<typeof setTimeout> | undefined;
  #closedWith: { code: number; reason: string } | undefined;
  #closing = false;
  #options: ConnectOptions;

  constructor(socket: WebSocketLike, options: ConnectOptions) {
    this.#socket = socket;
    this.#options = options;
    if ("binaryType" in socket) socket.binaryType = "arraybuffer";
    socket.addEventListener("message", (event: { data: unknown }) => this.#onMessage(event.data));
    this.closed = new Promise((resolve) => {
      socket.addEventListener("close", (event: { code?: number; reason?: string }) => {
        this.#closedWith = { code: event.code ?? 1006, reason: event.reason ?? "" };
        clearTimeout(this.#creditTimer);
        for (const pending of this.#pending.values()) pending.fail(new OverlayClosedError(this.#closedWith.code, this.#closedWith.reason));
        this.#pending.clear();
        resolve(this.#closedWith);
      });
    });
  }

  /**
   * HELLO → READY (MAC checked) → CONFIRM. Called by `connectOverlay`. Two client round trips with
   * the WebSocket upgrade, one when HELLO went in the upgrade's header (`helloSent`: READY is then
   * the first frame, corr 0): requests may follow CONFIRM at once (the server verifies CONFIRM
   * before it reads anything behind it), so its answer is awaited only with `awaitConfirm`.
   */
  async handshake(options: ConnectOptions, prepared?: ClientHandshake, helloSent = false): Promise<void> {
    const timeout = options.handshakeTimeoutMs ?? 5_000;
    // registered before any await: READY may arrive as soon as the socket does
    const answered = helloSent && prepared ? this.#answerTo(HEADER_HELLO_CORR_ID, APP.CONTROL, timeout) : undefined;
    const handshake = prepared ?? (await startClientHandshake(options));
    const readyFrame = await (answered ?? this.#request(APP.CONTROL, FLAGS.REQ, handshake.hello, timeout));
    const established = await handshake.finish(readyFrame.payload);
    this.session = established.ready;
    this.sessionKey = established.sessionKey;
    const confirm = options.tamperConfirm ? options.tamperConfirm(established.confirm) : established.confirm;
    this.confirmed = this.#request(APP.CONTROL, FLAGS.REQ, confirm, timeout).then(() => undefined);
    this.confirmed.catch(() => undefined); // a refusal also closes the session; never unhandled
    if (options.awaitConfirm) await this.confirmed;
  }

  /** The object's bytes, streamed in chunks and checked against its BLAKE3 address. */
  async fetch(address: string): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    let start: ObjectStart | undefined;
    let received = 0;
    await this.#stream(APP.OBJECT, new TextEncoder().encode(address), (f) => {
      if (f.flags & FLAGS.START) start = parseJsonBytes(f.payload) as ObjectStart;
      else {
        chunks.push(f.payload);
        received += f.payload.length;
      }
    });
    if (!start || received !== start.size) throw new OverlayError(502, "short_stream", `expected ${start?.size} bytes, got ${received}`);
    const bytes = joinChunks(chunks, received);
    const actual = (this.#options.blake3Hex ?? defaultBlake3Hex)(bytes);
    if (`b3:${actual}` !== address) throw new IntegrityError(address, actual);
    return bytes;
  }

  async subscribe(topic: string, onEvent: (event: GossipEvent) => void): Promise<void> {
    await this.#request(APP.GOSSIP, FLAGS.REQ, jsonBytes({ op: "subscribe", topic }));
    this.#topics.set(topic, onEvent);
  }

  async unsubscribe(topic: string): Promise<void> {
    await this.#request(APP.GOSSIP, FLAGS.REQ, jsonBytes({ op: "unsubscribe", topic }));
    this.#topics.delete(topic);
  }

  /** Publish to a topic; `id` makes a retry a duplicate instead of a second message. */
  async publish(topic: string, data: Uint8Array, options: { id?: string; ttlMs?: number } = {}): Promise<PublishResult> {
    const id = options.id ?? bytesToHex(crypto.getRandomValues(new Uint8Array(16)));
    const payload = encodeGossipPayload({ topic, id, ...(options.ttlMs ? { ttl_ms: options.ttlMs } : {}) }, data);
    const reply = await this.#request(APP.GOSSIP, FLAGS.EVENT | FLAGS.ACK_REQ, payload);
    return parseJsonBytes(reply.payload) as PublishResult;
  }

  /** Acknowledge `n` data frames (only needed with `manualCredit`). */
  credit(n: number): void {
    this.#sendFrame(frame({ flags: FLAGS.EVENT, appProtoId: APP.CONTROL, payload: jsonBytes({ op: "credit", n }) }));
  }

  /** Send raw bytes on the session (tests of malformed input). */
  sendRaw(bytes: Uint8Array): void {
    this.#socket.send(bytes);
  }

  close(code = 1000, reason = "client closed"): void {
    this.#closing = true;
    clearTimeout(this.#creditTimer);
    try {
      this.#socket.close(code, reason);
    } catch {
      // already closed
    }
  }

  // ---------------------------------------------------------------- plumbing

  #sendFrame(bytes: Uint8Array): void {
    if (this.#closedWith || this.#closing) throw new OverlayClosedError(this.#closedWith?.code ?? 1000, this.#closedWith?.reason ?? "closed by the client");
    this.#socket.send(bytes);
  }

  /** One request, one answer frame. */
  #request(appProtoId: number, flags: number, payload: Uint8Array, timeoutMs = this.#options.requestTimeoutMs ?? 10_000): Promise<Frame> {
    let answer: Frame | undefined;
    return this.#stream(appProtoId, payload, (f) => (answer = f), flags, timeoutMs).then(() => answer!);
  }

  /** A request whose answer may span frames, until END (or a single-frame answer). */
  #stream(appProtoId: number, payload: Uint8Array, onFrame: FrameHandler, flags: number = FLAGS.REQ, timeoutMs = this.#options.requestTimeoutMs ?? 10_000): Promise<void> {
    const corrId = this.#nextCorr++;
    return this.#expect(corrId, appProtoId, onFrame, timeoutMs, () => this.#sendFrame(frame({ flags, appProtoId, corrId, payload })));
  }

  /** The single answer frame with `corrId` to a request sent some other way (the header HELLO). */
  #answerTo(corrId: bigint, appProtoId: number, timeoutMs: number): Promise<Frame> {
    let answer: Frame | undefined;
    return this.#expect(corrId, appProtoId, (f) => (answer = f), timeoutMs).then(() => answer!);
  }

  /** Wait for the frames answering `corrId` (after `send`, when given) until END or a single-frame answer. */
  #expect(corrId: bigint, appProtoId: number, onFrame: FrameHandler, timeoutMs: number, send?: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => finish(new OverlayError(504, "timeout", `no answer within ${timeoutMs} ms`)), timeoutMs);
      const finish = (error?: Error) => {
        clearTimeout(timer);
        this.#pending.delete(corrId);
        if (error) reject(error);
        else resolve();
      };
      this.#pending.set(corrId, {
        fail: finish,
        onFrame: (f) => {
          if (f.code >= 400) {
            const body = safeJson(f.payload) as Partial<ErrorPayload>;
            return finish(new OverlayError(f.code, body.reason ?? "error", body.message ?? `status ${f.code}`));
          }
          try {
            onFrame(f);
          } catch (error) {
            return finish(error as Error);
          }
          const streaming = appProtoId === APP.OBJECT;
          if (!streaming || f.flags & FLAGS.END) finish();
        },
      });
      try {
        send?.();
      } catch (error) {
        finish(error as Error);
      }
    });
  }

  #onMessage(data: unknown): void {
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : undefined;
    if (!bytes) return this.close(1003, "binary frames only");
    let received: Frame;
    try {
      const decoded = decodeFrame(bytes);
      if ("needMore" in decoded) throw new Error("truncated frame");
      received = decoded.frame;
    } catch {
      return this.close(1002, "malformed frame from server");
    }
    if (received.flags & FLAGS.ACK_REQ) this.#owe();
    if (received.appProtoId === APP.GOSSIP && received.flags & FLAGS.EVENT) return this.#onGossip(received);
    this.#pending.get(received.corrId)?.onFrame(received);
  }

  #onGossip(received: Frame): void {
    if (received.code === 429) {
      const topic = (safeJson(received.payload) as { topic?: string }).topic ?? "";
      this.#topics.delete(topic);
      this.onEvicted?.(topic);
      return;
    }
    try {
      const { header, data } = decodeGossipPayload(received.payload);
      this.#topics.get(header.topic)?.({ topic: header.topic, id: header.id, data, ...(header.missed ? { missed: header.missed } : {}) });
    } catch {
      // a malformed event is skipped; the session goes on
    }
  }

  /** Credit owed for data frames: sent in batches of half the window, or after a short pause. */
  #owe(): void {
    if (this.#options.manualCredit) return;
    this.#unacked++;
    const batch = Math.max(1, Math.floor((this.session?.limits.send_window ?? 16) / 2));
    if (this.#unacked >= batch) return this.#flushCredit();
    this.#creditTimer ??= setTimeout(() => this.#flushCredit(), 10);
  }

  #flushCredit(): void {
    clearTimeout(this.#creditTimer);
    this.#creditTimer = undefined;
    if (!this.#unacked || this.#closedWith || this.#closing) return;
    const n = this.#unacked;
    this.#unacked = 0;
    try {
      this.credit(n);
    } catch {
      // the socket is going away; its close event settles everything
    }
  }
}

function safeJson(bytes: Uint8Array): unknown {
  try {
    return parseJsonBytes(bytes) ?? {};
  } catch {
    return {};
  }
}
