/**
 * @module OverlaySession: one object per session, holding its WebSocket through the hibernation
 * API (an idle session costs nothing; its state rides in the socket attachment). It runs the
 * HELLO → READY → CONFIRM handshake (HELLO as the first frame, or in the upgrade's `OAP-Hello`
 * header, answered by READY as the socket's first frame), then serves object fetches and gossip
 * under the per-peer limits (rps, inflight, send window). Protocol: docs/OAP1.md.
 *
 * Timeouts: the handshake deadline is a timer in memory (the handshake is short, and a timer
 * writes nothing). The idle timeout is a storage alarm, which survives hibernation, except in
 * amnesia mode, where nothing of a session may touch storage: there it is a timer too, and the
 * session object stays in memory while its socket is open.
 */
import { DurableObject } from "cloudflare:workers";
import { authenticate, CapabilityDenied, denialStatus, judgeOrThrow, keyringOfEnv, type CapabilityNeed, type CapabilityOp } from "../shared/capability";
import type { ConfigEnv } from "../shared/config";
import { metrics } from "../shared/metrics";
import { DecodeError, DomainError, IntegrityError, MissingObjectError } from "../shared/domain-errors";
import { decodeFrame, FLAGS, MAX_FRAME, OapError, type Frame } from "../shared/oap/codec";
import { overlayState } from "../shared/overlay/isolate-state";
import { acceptHello, confirmMatches, HandshakeError, type PendingConfirm } from "../shared/overlay/handshake";
import { wasmMlKem768 } from "../shared/overlay/ml-kem";
import { relay, type DeliveryOutcome, type GossipMessage, type GossipPeer } from "../shared/overlay/gossip-relay";
import { CreditWindow, FrameBucket, InflightRequests } from "../shared/overlay/peer-flow";
import { APP, CLOSE, creditSchema, decodeGossipPayload, encodeGossipPayload, errorFrame, frame, frameKind, gossipRequestSchema, jsonBytes, parseJsonBytes, type PqOffer } from "../shared/overlay/protocol";
import { CLIENT_HEADER, LOCAL_CLIENT, SETTINGS_HEADER, type GossipSettings, type OverlaySettings } from "../shared/overlay/settings";
import { HEADER_HELLO_CORR_ID, HELLO_HEADER, helloFromHeader, helloRefusalResponse } from "../shared/overlay/hello-header";
import { fetchForSession } from "../shared/overlay/object-fetch";
import { sendObject } from "../shared/overlay/object-sender";
import { createObjectStore, type StoreEnv } from "../shared/store";
import type { GossipHubRpc } from "../shared/overlay/gossip-hub-rpc";
import { errorText, log } from "../shared/log";

export interface OverlaySessionEnv extends StoreEnv, ConfigEnv {
  OVERLAY_SESSION: DurableObjectNamespace<OverlaySession>;
  GOSSIP_HUB: DurableObjectNamespace<GossipHubRpc>;
}

/** Everything about the session that must survive hibernation (plain data). */
interface Attachment {
  id: string;
  phase: "hello" | "confirm" | "open" | "closed";
  settings: OverlaySettings;
  /** Whose session this is, for OVERLAY_MAX_SESSIONS_PER_CLIENT (client IP, or "local"). */
  client: string;
  openedAt: number;
  /** Handshake deadline (epoch ms). */
  deadline: number;
  lastSeen: number;
  pending?: PendingConfirm;
  pq?: PqOffer;
  /** The capability token HELLO presented; each request is judged against it. */
  token?: string;
  topics: string[];
}

/** A judged HELLO: the attachment to keep (phase `confirm`) and the READY payload to send. */
interface HelloAnswer {
  next: Attachment;
  ready: Uint8Array;
}

const OVERLAY_OPS: readonly CapabilityOp[] = ["overlay.fetch", "overlay.publish", "overlay.subscribe"];

/** Log lines from this object name it; it has no request, so no corr id. */
const LOG_SCOPE = { service: "overlay-session" } as const;
/** Topics one session may subscribe to. */
const MAX_TOPICS = 64;
/** Buffered fetch bytes per session: this many times the largest fetchable object. */
const FETCH_BUDGET_OBJECTS = 2;
/** Frames a client may send behind CONFIRM before the server has read it. */
const MAX_EARLY_FRAMES = 16;
/** CONFIRM (and HELLO) are control requests; anything else during the handshake is early data. */
const isControlRequest = (f: Frame) => f.appProtoId === APP.CONTROL && !!(f.flags & FLAGS.REQ);
/** Gossip deliveries skipped in a row (per window slot) for want of credit before the subscriber may be evicted. */
const EVICT_AFTER_SKIPS_PER_WINDOW = 4;

export class OverlaySession extends DurableObject<OverlaySessionEnv> implements GossipPeer {
  // Memory-only flow state: rebuilt after hibernation, which only happens when the session is idle.
  #bucket?: FrameBucket;
  #inflight?: InflightRequests;
  #window?: CreditWindow;
  #fetchBytes = 0;
  #skips = 0;
  /** When the current run of skipped deliveries began (eviction also needs OVERLAY_GOSSIP_EVICT_AFTER_MS of it). */
  #skippingSince = 0;
  /** Per topic: deliveries skipped (`slow`) since the last one made, told to the subscriber with the next. */
  #missed = new Map<string, number>();
  #seen = new Map<string, number>();
  #lastSeen = 0;
  /** Frames received before CONFIRM, served once the session opens (memory only: a handshake never hibernates). */
  #early: Frame[] = [];
  #work = new Set<Promise<void>>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(ctx: DurableObjectState, env: OverlaySessionEnv) {
    super(ctx, env);
    // a socket already here means this instance woke from hibernation: the session goes on
    if (ctx.getWebSockets().length) metrics.overlaySessionWakes.inc();
  }

  override async fetch(request: Request): Promise<Response> {
    const raw = request.headers.get(SETTINGS_HEADER);
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket" || !raw) return new Response("session objects are opened by the overlay worker", { status: 400 });
    const settings = JSON.parse(raw) as OverlaySettings;
    const now = Date.now();
    const clientKey = request.headers.get(CLIENT_HEADER) ?? LOCAL_CLIENT;
    let state: Attachment = { id: this.ctx.id.toString(), phase: "hello", settings, client: clientKey, openedAt: now, deadline: now + settings.handshakeTimeoutMs, lastSeen: now, topics: [] };
    // the one-round-trip path: HELLO came in the upgrade's header, judged before any socket exists
    const headerHello = request.headers.get(HELLO_HEADER);
    let ready: Uint8Array | undefined;
    if (headerHello !== null) {
      let answer: HelloAnswer | HandshakeError;
      try {
        answer = await this.#answerHello(state, helloFromHeader(headerHello));
      } catch (error) {
        if (!(error instanceof HandshakeError)) {
          // the server's own failure (the worker answers it 500 and logs it): counted as a frame's would be
          overlayState.internalFailure();
          metrics.overlayHandshakeFailures.inc({ reason: "internal" });
          throw error;
        }
        answer = error;
      }
      if (answer instanceof HandshakeError) {
        metrics.overlayHandshakeFailures.inc({ reason: answer.reason });
        return helloRefusalResponse(answer);
      }
      ({ next: state, ready } = answer);
    }
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment(state);
    await this.#wakeAt(state, state.deadline);
    overlayState.sessionOpened();
    // READY goes out as the socket's first frame: the client answers it with CONFIRM at once
    if (ready) this.#send(server, frame({ flags: FLAGS.RESP, code: 200, appProtoId: APP.CONTROL, corrId: HEADER_HELLO_CORR_ID, payload: ready }));
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: ArrayBuffer | string): Promise<void> {
    const state = ws.deserializeAttachment() as Attachment;
    if (state.phase === "closed") return;
    if (typeof message === "string") return this.#end(ws, state, CLOSE.UNSUPPORTED, "binary_only", "malformed_frame");
    const bytes = new Uint8Array(message);
    this.#touch(ws, state);
    metrics.overlayFrameSize.observe({ dir: "rx" }, bytes.length);
    const maxFrame = state.phase === "open" ? state.settings.limits.max_frame : MAX_FRAME;
    if (bytes.length > maxFrame) return this.#end(ws, state, CLOSE.TOO_BIG, "FrameTooLarge", "frame_too_large");
    let received: Frame;
    try {
      const decoded = decodeFrame(bytes);
      if ("needMore" in decoded) return this.#end(ws, state, CLOSE.PROTOCOL, "NeedMore", "malformed_frame");
      if (decoded.consumed !== bytes.length) return this.#end(ws, state, CLOSE.PROTOCOL, "TrailingBytes", "malformed_frame");
      received = decoded.frame;
    } catch (error) {
      const kind = error instanceof OapError ? error.kind : "Malformed";
      return this.#end(ws, state, kind === "FrameTooLarge" ? CLOSE.TOO_BIG : CLOSE.PROTOCOL, kind, kind === "FrameTooLarge" ? "frame_too_large" : "malformed_frame");
    }
    metrics.overlayFrames.inc({ dir: "rx", kind: frameKind(received) });
    await this.#handle(ws, state, received);
  }

  /** One decoded frame, by phase; every failure ends here as a refusal or a close, never thrown. */
  async #handle(ws: WebSocket, state: Attachment, received: Frame): Promise<void> {
    try {
      if (state.phase === "hello") return await this.#hello(ws, state, received);
      if (state.phase === "confirm") {
        // a request sent right behind CONFIRM may be delivered before it: keep it until the
        // session is open (or refused), as TLS keeps early data until the Finished message
        if (!isControlRequest(received)) return this.#holdEarly(ws, received);
        return await this.#confirm(ws, state, received);
      }
      return await this.#dispatch(ws, state, received);
    } catch (error) {
      // the client's fault (input that does not decode, a refused handshake…): a refusal, never a
      // server failure. An OapError here is not: received frames were decoded above, so it comes
      // from encoding one of ours.
      if (error instanceof DomainError && !(error instanceof OapError)) return this.#refuseDomain(ws, ws.deserializeAttachment() as Attachment, received, error);
      log.error(LOG_SCOPE, "overlay session failed", { session: state.id, error: errorText(error) });
      // only the server's own failures feed readiness; #end counts the handshake failure once
      if (state.phase !== "open") overlayState.internalFailure();
      this.#end(ws, state, CLOSE.INTERNAL, "internal", "internal");
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    const state = ws.deserializeAttachment() as Attachment;
    // 1005/1006 are not codes one may send (TOOLCHAIN §6): answer them with a plain 1000
    this.#end(ws, state, code === 1005 || code === 1006 ? CLOSE.NORMAL : code, reason || "peer closed", undefined);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.#end(ws, ws.deserializeAttachment() as Attachment, CLOSE.INTERNAL, "socket error", undefined);
  }

  override async alarm(): Promise<void> {
    await this.#checkTimeouts();
  }

  /**
   * Call #checkTimeouts at `at`. A timer during the handshake and in amnesia mode; a storage
   * alarm for an open session otherwise (a pending timer would keep the object from hibernating).
   */
  async #wakeAt(state: Attachment, at: number): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (state.phase === "open" && !state.settings.store.amnesia) return void (await this.ctx.storage.setAlarm(at));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#checkTimeouts().catch((error) => log.error(LOG_SCOPE, "overlay timeout check failed", { session: state.id, error: String(error) }));
    }, Math.max(0, at - Date.now()));
  }

  /** Handshake deadline, then idle timeout. */
  async #checkTimeouts(): Promise<void> {
    const ws = this.ctx.getWebSockets()[0];
    if (!ws) return;
    const state = ws.deserializeAttachment() as Attachment;
    const now = Date.now();
    if (state.phase === "closed") return;
    if (state.phase !== "open") {
      if (now < state.deadline) return this.#wakeAt(state, state.deadline);
      metrics.overlayHandshakeFailures.inc({ reason: "timeout" });
      this.#end(ws, state, CLOSE.HANDSHAKE_TIMEOUT, "handshake_timeout", undefined);
      // workerd keeps the connection of a socket that never delivered a message until the object
      // is evicted (~10 s after its last event), so the peer would see the close only then; the
      // close frame is out, so reset the object now to release the connection on time.
      setTimeout(() => this.ctx.abort("handshake timed out"), RELEASE_AFTER_CLOSE_MS);
      return;
    }
    const last = Math.max(this.#lastSeen, state.lastSeen);
    const idle = state.settings.limits.idle_timeout_ms;
    if (now - last < idle) return this.#wakeAt(state, last + idle);
    this.#end(ws, state, CLOSE.IDLE, "idle_timeout", undefined);
  }

  // ------------------------------------------------------------------ handshake

  async #hello(ws: WebSocket, state: Attachment, hello: Frame): Promise<void> {
    if (hello.appProtoId !== APP.CONTROL || !(hello.flags & FLAGS.REQ)) return this.#refuse(ws, state, hello, new HandshakeError("expected_hello", 400, "the first frame must be HELLO (REQ, app 0)"));
    const answer = await this.#answerHello(state, hello.payload);
    if (answer instanceof HandshakeError) return this.#refuse(ws, state, hello, answer);
    ws.serializeAttachment(answer.next);
    this.#send(ws, frame({ flags: FLAGS.RESP, code: 200, appProtoId: APP.CONTROL, corrId: hello.corrId, payload: answer.ready }));
  }

  /**
   * Judge a HELLO payload (token, versions, key shares) and build READY, whether it came as a frame
   * or in the upgrade's header. A refusal is returned, with its auth and PQ metrics counted; the
   * caller counts the handshake failure when it answers it.
   */
  async #answerHello(state: Attachment, payload: Uint8Array): Promise<HelloAnswer | HandshakeError> {
    const started = performance.now();
    let accepted;
    let token: string | undefined;
    try {
      // the token is judged before any key exchange work: anonymous clients cost a JSON parse
      const admit = (parsed: { token?: string }) => {
        const verified = authenticate(keyringOfEnv(this.env), parsed.token);
        if (verified.grant.ops && !OVERLAY_OPS.some((op) => verified.grant.ops!.has(op))) throw new CapabilityDenied("caveat", "token allows no overlay operation");
        token = parsed.token;
      };
      accepted = await acceptHello(payload, { mode: state.settings.pqMode, sessionId: state.id, limits: state.settings.limits, admit, kem: wasmMlKem768 });
    } catch (error) {
      if (error instanceof CapabilityDenied) {
        metrics.authDenied.inc({ reason: error.reason });
        return new HandshakeError(error.reason, denialStatus(error.reason), error.message);
      }
      if (error instanceof HandshakeError) {
        if (error.reason === "pq_required") metrics.overlayPqNegotiations.inc({ mode: state.settings.pqMode, outcome: "refused" });
        return error;
      }
      throw error;
    }
    metrics.overlayHandshakeSeconds.observe({ pq: accepted.pq }, (performance.now() - started) / 1000);
    metrics.overlayPqNegotiations.inc({ mode: state.settings.pqMode, outcome: accepted.pq === "hybrid" ? "hybrid" : "classical" });
    // the session's limits are what READY announced (max frame: the smaller of both sides')
    const settings = { ...state.settings, limits: accepted.limits };
    return { next: { ...state, settings, phase: "confirm", pending: accepted.pending, pq: accepted.pq, token }, ready: accepted.ready };
  }

  async #confirm(ws: WebSocket, state: Attachment, confirm: Frame): Promise<void> {
    // no await before the phase changes: a frame pipelined behind CONFIRM must find it settled
    const ok = confirm.appProtoId === APP.CONTROL && !!(confirm.flags & FLAGS.REQ) && state.pending !== undefined && confirmMatches(confirm.payload, state.pending);
    if (!ok) {
      // a second HELLO (one came in the upgrade's header, or as a frame) is a protocol error
      let hello = false;
      try {
        hello = (parseJsonBytes(confirm.payload) as { op?: unknown } | null)?.op === "hello";
      } catch {
        // not JSON: a bad CONFIRM
      }
      if (hello) return this.#refuse(ws, state, confirm, new HandshakeError("duplicate_hello", 400, "HELLO came already; CONFIRM must follow READY"), CLOSE.PROTOCOL);
      return this.#refuse(ws, state, confirm, new HandshakeError("bad_confirm", 401, "the first frame after READY must be CONFIRM with the client's MAC over the transcript"));
    }
    const now = Date.now();
    const open: Attachment = { ...state, phase: "open", pending: undefined, lastSeen: now };
    ws.serializeAttachment(open);
    this.#send(ws, frame({ flags: FLAGS.RESP, code: 200, appProtoId: APP.CONTROL, corrId: confirm.corrId, payload: jsonBytes({ op: "confirmed" }) }));
    for (const early of this.#early.splice(0)) void this.#handle(ws, open, early);
    await this.#wakeAt(open, now + state.settings.limits.idle_timeout_ms);
  }

  /** Frames that arrived between READY and CONFIRM; bounded, dropped if CONFIRM is refused. */
  #holdEarly(ws: WebSocket, received: Frame): void {
    if (this.#early.length >= MAX_EARLY_FRAMES) return this.#reject(ws, received, 429, "peer_inflight", `at most ${MAX_EARLY_FRAMES} frames may wait for CONFIRM`);
    this.#early.push(received);
  }

  /** A domain error from below: during the handshake it refuses the session, after it the request. */
  #refuseDomain(ws: WebSocket, state: Attachment, request: Frame, error: DomainError): void {
    const status = refusalStatus(error);
    if (state.phase === "open") return this.#reject(ws, request, status, error.reason, error.message);
    this.#refuse(ws, state, request, error instanceof HandshakeError ? error : new HandshakeError(error.reason, status, error.message));
  }

  #refuse(ws: WebSocket, state: Attachment, request: Frame, error: HandshakeError, closeCode: number = CLOSE.POLICY): void {
    metrics.overlayHandshakeFailures.inc({ reason: error.reason });
    this.#send(ws, errorFrame(APP.CONTROL, request.corrId, error.status, error.reason, error.message));
    this.#end(ws, state, closeCode, error.reason, undefined);
  }

  // ------------------------------------------------------------------ open session

  async #dispatch(ws: WebSocket, state: Attachment, request: Frame): Promise<void> {
    if (request.appProtoId === APP.CONTROL && request.flags & FLAGS.EVENT) return this.#credit(ws, state, request);
    if (!this.#flow(ws, state).bucket.take()) return this.#reject(ws, request, 429, "peer_rate", `over ${state.settings.limits.rps} frames per second`);
    if (request.appProtoId === APP.OBJECT && request.flags & FLAGS.REQ) return this.#withInflight(ws, state, request, () => this.#fetchObject(ws, state, request));
    if (request.appProtoId === APP.GOSSIP && request.flags & FLAGS.EVENT) return this.#withInflight(ws, state, request, () => this.#publish(ws, state, request));
    if (request.appProtoId === APP.GOSSIP && request.flags & FLAGS.REQ) return this.#withInflight(ws, state, request, () => this.#subscription(ws, request));
    return this.#reject(ws, request, 400, "unknown_request", `no handler for app ${request.appProtoId} with flags 0x${request.flags.toString(16)}`);
  }

  #credit(ws: WebSocket, state: Attachment, request: Frame): void {
    let n: number;
    try {
      n = creditSchema.parse(parseJsonBytes(request.payload)).n;
    } catch {
      return this.#end(ws, state, CLOSE.PROTOCOL, "bad_credit", "malformed_frame");
    }
    this.#flow(ws, state).window.credit(n);
  }

  /** Run a request under the peer's inflight cap; `work` calls `done` when its last frame is out. */
  async #withInflight(ws: WebSocket, state: Attachment, request: Frame, work: () => Promise<typeof HANDED_OFF | void>): Promise<void> {
    const { inflight } = this.#flow(ws, state);
    if (!inflight.tryStart()) return this.#reject(ws, request, 429, "peer_inflight", `more than ${state.settings.limits.inflight} requests in progress`);
    let handedOff = false;
    try {
      handedOff = (await work()) === HANDED_OFF;
    } finally {
      if (!handedOff) inflight.finish();
    }
  }

  #reject(ws: WebSocket, request: Frame, status: number, reason: string, message: string): void {
    metrics.rejected.inc({ reason });
    this.#send(ws, errorFrame(request.appProtoId, request.corrId, status, reason, message));
  }

  /** Judge one request against the session's token; a refusal answers it (401/403) and counts. */
  #allows(ws: WebSocket, state: Attachment, request: Frame, need: CapabilityNeed): boolean {
    try {
      judgeOrThrow(authenticate(keyringOfEnv(this.env), state.token), need);
      return true;
    } catch (error) {
      if (!(error instanceof CapabilityDenied)) throw error;
      metrics.authDenied.inc({ reason: error.reason });
      this.#reject(ws, request, denialStatus(error.reason), error.reason, error.message);
      return false;
    }
  }

  async #fetchObject(ws: WebSocket, state: Attachment, request: Frame): Promise<typeof HANDED_OFF | void> {
    if (!this.#allows(ws, state, request, { op: "overlay.fetch" })) return;
    const outcome = await fetchForSession(createObjectStore(this.env, state.settings.store), request.payload, {
      maxBytes: state.settings.fetchMaxBytes,
      budgetLeft: FETCH_BUDGET_OBJECTS * Math.max(state.settings.fetchMaxBytes, 1) - this.#fetchBytes,
      corrId: `overlay:${state.id}`,
      verify: state.settings.verify,
    });
    if ("refusal" in outcome) return this.#reject(ws, request, outcome.refusal.status, outcome.refusal.reason, outcome.refusal.message);
    const { window, inflight } = this.#flow(ws, state);
    this.#fetchBytes += outcome.size; // counted whole until its last frame is out, as when objects were held whole
    const fail = (error: unknown) => (error instanceof DomainError ? this.#refuseDomain(ws, state, request, error) : this.#reject(ws, request, 500, "internal", "the object could not be read"));
    void sendObject(window, outcome, request.corrId, state.settings.limits.chunk, fail).finally(() => {
      this.#fetchBytes -= outcome.size;
      inflight.finish();
      this.#refreshQueueGauge();
    });
    this.#refreshQueueGauge();
    return HANDED_OFF;
  }

  async #subscription(ws: WebSocket, request: Frame): Promise<void> {
    let parsed;
    try {
      parsed = gossipRequestSchema.parse(parseJsonBytes(request.payload));
    } catch {
      return this.#reject(ws, request, 400, "bad_gossip_request", 'expected {"op":"subscribe"|"unsubscribe","topic":"[a-z0-9._-]{1,64}"}');
    }
    const state = ws.deserializeAttachment() as Attachment;
    const hub = this.#hub(parsed.topic);
    if (parsed.op === "subscribe") {
      if (!this.#allows(ws, state, request, { op: "overlay.subscribe", topic: parsed.topic })) return;
      if (!state.topics.includes(parsed.topic) && state.topics.length >= MAX_TOPICS) return this.#reject(ws, request, 429, "topics", `at most ${MAX_TOPICS} topics per session`);
      const outcome = await hub.subscribe(state.id, state.settings.gossip);
      if (!outcome.ok) return this.#reject(ws, request, 429, "topic_full", `topic ${parsed.topic} has its maximum of subscribers`);
      this.#setTopics(ws, (topics) => (topics.includes(parsed.topic) ? topics : [...topics, parsed.topic]));
      this.#skips = 0;
      this.#missed.delete(parsed.topic);
    } else {
      await hub.unsubscribe(state.id, state.settings.gossip);
      this.#setTopics(ws, (topics) => topics.filter((t) => t !== parsed.topic));
    }
    this.#send(ws, frame({ flags: FLAGS.RESP | FLAGS.END, code: 200, appProtoId: APP.GOSSIP, corrId: request.corrId, payload: jsonBytes({ op: parsed.op, topic: parsed.topic }) }));
  }

  async #publish(ws: WebSocket, state: Attachment, request: Frame): Promise<void> {
    let header, data;
    try {
      ({ header, data } = decodeGossipPayload(request.payload));
    } catch {
      return this.#reject(ws, request, 400, "bad_gossip_event", "expected u16 header length, header JSON {topic,id,ttl_ms?}, message bytes");
    }
    if (!this.#allows(ws, state, request, { op: "overlay.publish", topic: header.topic, bytes: data.length })) return;
    const ttlMs = Math.min(header.ttl_ms ?? state.settings.gossip.ttlMs, state.settings.gossip.ttlMs);
    const message: GossipMessage = { topic: header.topic, id: header.id, data, expiresAt: Date.now() + ttlMs };
    const outcome = await this.#hub(header.topic).publish(message, state.id, state.settings.gossip);
    if (outcome.status === "backpressure") return this.#reject(ws, request, 429, "gossip_backpressure", `topic ${header.topic} has too many relays in progress`);
    if (request.flags & FLAGS.ACK_REQ) {
      const body = outcome.status === "duplicate" ? { id: header.id, duplicate: true, subscribers: 0 } : { id: header.id, duplicate: false, subscribers: outcome.subscribers };
      this.#send(ws, frame({ flags: FLAGS.RESP | FLAGS.END, code: 200, appProtoId: APP.GOSSIP, corrId: request.corrId, payload: jsonBytes(body) }));
    }
  }

  // ------------------------------------------------------------------ gossip relay hop (RPC)

  async deliver(message: GossipMessage, subtree: string[], hopsLeft: number, settings: GossipSettings): Promise<DeliveryOutcome> {
    const ws = this.ctx.getWebSockets()[0];
    const state = ws?.deserializeAttachment() as Attachment | undefined;
    if (!ws || !state || state.phase !== "open" || !state.topics.includes(message.topic)) {
      // Not subscribed any more: the caller drops us from the topic and re-routes our subtree.
      return "gone";
    }
    const outcome = this.#deliverLocally(ws, state, message);
    if (subtree.length) {
      const work = relay(message, subtree, hopsLeft, settings, (id) => this.#peer(id), (id) => void this.#hub(message.topic).unsubscribe(id, settings)).finally(() => this.#work.delete(work));
      this.#work.add(work);
    }
    return outcome;
  }

  #deliverLocally(ws: WebSocket, state: Attachment, message: GossipMessage): DeliveryOutcome {
    const now = Date.now();
    for (const [id, expiresAt] of this.#seen) {
      if (expiresAt >= now) break;
      this.#seen.delete(id);
    }
    if (this.#seen.has(message.id)) {
      metrics.gossipDropped.inc({ reason: "duplicate" });
      return "duplicate";
    }
    if (now > message.expiresAt) {
      metrics.gossipDropped.inc({ reason: "expired" });
      return "expired";
    }
    this.#seen.set(message.id, message.expiresAt);
    const { window } = this.#flow(ws, state);
    // Past a full window, one more window's worth waits in order for credit: credit that is only
    // late (a busy client, a round trip under load) costs latency, not messages. Beyond that the
    // delivery is skipped, and the subscriber's next event on the topic says how many it missed.
    if (window.queued >= state.settings.limits.send_window) {
      if (this.#skips++ === 0) this.#skippingSince = now;
      if (this.#skips < EVICT_AFTER_SKIPS_PER_WINDOW * state.settings.limits.send_window || now - this.#skippingSince < state.settings.gossip.evictAfterMs) {
        metrics.gossipDropped.inc({ reason: "slow" });
        this.#missed.set(message.topic, (this.#missed.get(message.topic) ?? 0) + 1);
        return "slow";
      }
      // A subscriber that never catches up is taken off the topic, never allowed to stall it.
      metrics.gossipDropped.inc({ reason: "evicted" });
      this.#skips = 0;
      this.#missed.delete(message.topic); // the eviction notice tells the rest
      this.#setTopics(ws, (topics) => topics.filter((t) => t !== message.topic));
      void this.#hub(message.topic).unsubscribe(state.id, state.settings.gossip).catch(() => undefined);
      const notice = { code: "TOO_MANY_REQUESTS", reason: "evicted", message: `dropped from ${message.topic}: deliveries kept finding no credit`, topic: message.topic };
      this.#send(ws, frame({ flags: FLAGS.EVENT, code: 429, appProtoId: APP.GOSSIP, payload: jsonBytes(notice) }));
      return "evicted";
    }
    this.#skips = 0;
    const missed = this.#missed.get(message.topic);
    this.#missed.delete(message.topic);
    const payload = encodeGossipPayload({ topic: message.topic, id: message.id, ...(missed ? { missed } : {}) }, message.data);
    window.push(frame({ flags: FLAGS.EVENT | FLAGS.ACK_REQ, appProtoId: APP.GOSSIP, payload }));
    metrics.gossipDelivered.inc();
    return "delivered";
  }

  // ------------------------------------------------------------------ plumbing

  #flow(ws: WebSocket, state: Attachment) {
    const limits = state.settings.limits;
    this.#bucket ??= new FrameBucket(limits.rps);
    this.#inflight ??= new InflightRequests(limits.inflight);
    this.#window ??= new CreditWindow(limits.send_window, (bytes) => {
      this.#send(ws, bytes);
      this.#refreshQueueGauge();
    });
    return { bucket: this.#bucket, inflight: this.#inflight, window: this.#window };
  }

  #queuedReported = 0;
  #refreshQueueGauge(): void {
    const queued = this.#window?.queued ?? 0;
    overlayState.sendQueued(queued - this.#queuedReported);
    this.#queuedReported = queued;
  }

  #send(ws: WebSocket, bytes: Uint8Array): void {
    try {
      ws.send(bytes);
    } catch {
      return; // the socket is closing; the close handler cleans up
    }
    metrics.overlayFrameSize.observe({ dir: "tx" }, bytes.length);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    metrics.overlayFrames.inc({ dir: "tx", kind: frameKind({ flags: view.getUint16(6), code: view.getUint16(8), appProtoId: view.getUint16(10) }) });
  }

  /** Last activity: in memory always, in the attachment at most once a second (it survives hibernation). */
  #touch(ws: WebSocket, state: Attachment): void {
    const now = Date.now();
    this.#lastSeen = now;
    if (state.phase === "open" && now - state.lastSeen > 1_000) {
      state.lastSeen = now;
      ws.serializeAttachment(state);
    }
  }

  #setTopics(ws: WebSocket, change: (topics: string[]) => string[]): void {
    const current = ws.deserializeAttachment() as Attachment;
    ws.serializeAttachment({ ...current, topics: change(current.topics) });
  }

  #hub(topic: string) {
    return this.env.GOSSIP_HUB.get(this.env.GOSSIP_HUB.idFromName(topic));
  }

  #peer(id: string): GossipPeer {
    const stub = this.env.OVERLAY_SESSION.get(this.env.OVERLAY_SESSION.idFromString(id));
    return { deliver: async (...args) => await stub.deliver(...args) };
  }

  /** Close once: leave every topic, settle the gauges, count why. */
  #end(ws: WebSocket, state: Attachment, code: number, reason: string, rejectReason: string | undefined): void {
    if (state.phase === "closed") return;
    if (rejectReason) metrics.rejected.inc({ reason: rejectReason });
    const current = ws.deserializeAttachment() as Attachment;
    ws.serializeAttachment({ ...current, phase: "closed" } satisfies Attachment);
    for (const topic of current.topics) void this.#hub(topic).unsubscribe(state.id, current.settings.gossip).catch(() => undefined);
    overlayState.sessionClosed(current.client ?? LOCAL_CLIENT);
    overlayState.sendQueued(-this.#queuedReported);
    this.#queuedReported = 0;
    if (state.phase !== "open" && rejectReason) metrics.overlayHandshakeFailures.inc({ reason: rejectReason });
    try {
      ws.close(code, reason.slice(0, 120));
    } catch {
      // already closed
    }
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // only a persistent-mode open session ever set an alarm; amnesia sessions never touch storage
    if (state.phase === "open" && !state.settings.store.amnesia) void this.ctx.storage.deleteAlarm().catch(() => undefined);
  }
}

/** The overlay edge's translation of a domain error into the code of its refusal frame. */
function refusalStatus(error: DomainError): number {
  if (error instanceof CapabilityDenied) return denialStatus(error.reason);
  if (error instanceof HandshakeError) return error.status;
  if (error instanceof IntegrityError) return 502;
  if (error instanceof MissingObjectError) return 404;
  if (error instanceof DecodeError) return error.kind === "too_large" ? 413 : error.kind === "unsupported" ? 415 : 400;
  return 400;
}

/** How long after a handshake-timeout close the object is reset (the close frame is out by then). */
const RELEASE_AFTER_CLOSE_MS = 100;

/** Returned by a request handler that finishes later (its last frame waits for credit). */
const HANDED_OFF = Symbol("handed off");
