/**
 * @module The session protocol on top of OAP/1 frames (docs/OAP1.md): which app_proto_id carries
 * what, the control messages of the handshake and flow control (JSON, validated by zod on both
 * sides), close codes, and the binary layout of gossip payloads. Shared by the session Durable
 * Object and the SDK, so both ends read one definition.
 */
import * as z from "../zod";
import { isBase64 } from "../base64";
import { encodeFrame, FLAGS, OAP_VERSION, type Frame } from "../oap/codec";

/** Version of the session protocol (HELLO → READY → CONFIRM), offered in HELLO `versions`. */
export const SESSION_PROTOCOL_VERSION = 1;

export const APP = {
  /** Handshake, credit, errors about the session itself. */
  CONTROL: 0,
  /** Object fetch: REQ `b3:<hex>` → RESP|START metadata, chunks, END. */
  OBJECT: 1,
  /** Gossip: subscribe/unsubscribe requests, published and delivered EVENTs. */
  GOSSIP: 2,
} as const;

/** WebSocket close codes the server uses, with the reason string carried next to them. */
export const CLOSE = {
  NORMAL: 1000,
  /** A frame that does not decode (the reason names the codec error). */
  PROTOCOL: 1002,
  /** A text message: the session speaks binary frames only. */
  UNSUPPORTED: 1003,
  /** A handshake refusal or a peer that breaks the session rules. */
  POLICY: 1008,
  /** A frame over the negotiated max frame. */
  TOO_BIG: 1009,
  /** The server could not go on (a bug or a failing dependency). */
  INTERNAL: 1011,
  /** No HELLO (or no CONFIRM) within the handshake timeout. */
  HANDSHAKE_TIMEOUT: 4408,
  /** No frame from the peer within the idle timeout. */
  IDLE: 4000,
} as const;

export type PqOffer = "off" | "hybrid";
export type PqMode = "off" | "hybrid" | "pq_only";

/** Bytes of a strict base64 string (padding optional), computed without decoding it. */
const base64Length = (text: string) => Math.floor((text.replace(/=+$/, "").length * 3) / 4);

/**
 * Strict base64 of exactly `bytes` bytes: checked here, in the schema, so a malformed key share is
 * a refusal of the HELLO (400 bad_hello), never a decoding failure later in the handshake.
 */
const b64 = (bytes: number, what: string) =>
  z.string().check(
    z.maxLength(Math.ceil(bytes / 3) * 4),
    z.refine((text: string) => isBase64(text) && base64Length(text) === bytes, { message: `${what} must be ${bytes} bytes of standard base64` }),
  );

const positiveInt = () => z.number().check(z.int(), z.positive());

// The schemas are built on first use (z.lazy): building zod schemas is a measurable part of an
// isolate's startup, and only overlay sessions parse these (docs/PERFORMANCE.md).
export const helloSchema = z.lazy(() => z.object({
  op: z.literal("hello"),
  ua: z.optional(z.string().check(z.maxLength(128))),
  versions: z.array(z.number().check(z.int(), z.gte(0), z.lte(0xffff))).check(z.minLength(1), z.maxLength(8)),
  features: z.object({
    compression: z._default(z.array(z.string().check(z.maxLength(16))).check(z.maxLength(4)), []),
    pq: z.enum(["off", "hybrid"]),
  }),
  max_frame: z.number().check(z.int(), z.gte(4_096), z.lte(1_048_576)),
  /** Capability token (docs/SECURITY.md): each fetch, publish and subscribe is judged against it. */
  token: z.optional(z.string().check(z.maxLength(4_096))),
  nonce: b64(16, "nonce"),
  key_shares: z.object({
    x25519: b64(32, "x25519 share"),
    /** ML-KEM-768 encapsulation key (1,184 bytes), present when `features.pq` is hybrid. */
    mlkem768: z.optional(b64(1_184, "ML-KEM-768 share")),
  }),
}));
export type Hello = z.infer<typeof helloSchema>;

export interface SessionLimits {
  max_frame: number;
  chunk: number;
  inflight: number;
  rps: number;
  send_window: number;
  idle_timeout_ms: number;
}

export const readySchema = z.lazy(() => z.object({
  op: z.literal("ready"),
  version: z.number().check(z.int()),
  session: z.string().check(z.maxLength(128)),
  pq: z.enum(["off", "hybrid"]),
  features: z.object({ compression: z.array(z.string()) }),
  limits: z.object({
    max_frame: positiveInt(),
    chunk: positiveInt(),
    inflight: positiveInt(),
    rps: positiveInt(),
    send_window: positiveInt(),
    idle_timeout_ms: positiveInt(),
  }),
  nonce: b64(16, "nonce"),
  key_shares: z.object({ x25519: b64(32, "x25519 share"), mlkem768_ct: z.optional(b64(1_088, "ML-KEM-768 ciphertext")) }),
  mac: z.string(),
}));
export type Ready = z.infer<typeof readySchema>;

export const confirmSchema = z.lazy(() => z.object({ op: z.literal("confirm"), mac: b64(32, "mac") }));
export const creditSchema = z.lazy(() => z.object({ op: z.literal("credit"), n: z.number().check(z.int(), z.gte(1), z.lte(1_048_576)) }));

/** The error payload of a refusal (any RESP with a code ≥ 400). */
export interface ErrorPayload {
  code: string;
  reason: string;
  message: string;
}

export const gossipRequestSchema = z.lazy(() => z.discriminatedUnion("op", [
  z.object({ op: z.literal("subscribe"), topic: z.string().check(z.regex(/^[a-z0-9._-]{1,64}$/)) }),
  z.object({ op: z.literal("unsubscribe"), topic: z.string().check(z.regex(/^[a-z0-9._-]{1,64}$/)) }),
]));

/** Header of a gossip EVENT payload; the message bytes follow it. */
export const gossipHeaderSchema = z.lazy(() => z.object({
  topic: z.string().check(z.regex(/^[a-z0-9._-]{1,64}$/)),
  id: z.string().check(z.regex(/^[A-Za-z0-9._:-]{1,128}$/)),
  ttl_ms: z.optional(positiveInt()),
  /** Deliveries: messages on this topic skipped for this subscriber since its previous event (no credit). */
  missed: z.optional(positiveInt()),
}));
export type GossipHeader = z.infer<typeof gossipHeaderSchema>;

const text = new TextEncoder();
const untext = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

export const jsonBytes = (value: unknown) => text.encode(JSON.stringify(value));
export const parseJsonBytes = (bytes: Uint8Array): unknown => JSON.parse(untext.decode(bytes));

/** Gossip EVENT payload: u16 header length ‖ header JSON ‖ message bytes. */
export function encodeGossipPayload(header: GossipHeader, data: Uint8Array): Uint8Array {
  const head = jsonBytes(header);
  if (head.length > 0xffff) throw new RangeError("gossip header too long");
  const out = new Uint8Array(2 + head.length + data.length);
  new DataView(out.buffer).setUint16(0, head.length);
  out.set(head, 2);
  out.set(data, 2 + head.length);
  return out;
}

/** The header and message of a gossip payload; throws on a malformed one. */
export function decodeGossipPayload(payload: Uint8Array): { header: GossipHeader; data: Uint8Array } {
  if (payload.length < 2) throw new Error("gossip payload shorter than its length prefix");
  const headLen = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint16(0);
  if (2 + headLen > payload.length) throw new Error("gossip header runs past the payload");
  const header = gossipHeaderSchema.parse(parseJsonBytes(payload.subarray(2, 2 + headLen)));
  return { header, data: payload.subarray(2 + headLen) };
}

/** A frame with the defaults of this protocol (version 1, tenant 0, no cap). */
export function frame(fields: Partial<Frame> & Pick<Frame, "flags" | "appProtoId">): Uint8Array {
  return encodeFrame({ ver: OAP_VERSION, code: 0, tenantId: 0n, corrId: 0n, cap: new Uint8Array(0), payload: new Uint8Array(0), ...fields });
}

/** A single-frame refusal answering the request `corrId`. */
export function errorFrame(appProtoId: number, corrId: bigint, status: number, reason: string, message: string): Uint8Array {
  const body: ErrorPayload = { code: statusCode(status), reason, message };
  return frame({ flags: FLAGS.RESP | FLAGS.END, code: status, appProtoId, corrId, payload: jsonBytes(body) });
}

function statusCode(status: number): string {
  const names: Record<number, string> = { 400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 413: "PAYLOAD_TOO_LARGE", 429: "TOO_MANY_REQUESTS", 500: "INTERNAL", 502: "INTEGRITY_FAIL", 503: "SERVICE_UNAVAILABLE" };
  return names[status] ?? "ERROR";
}

/** Frame kinds for `overlay_frames_total{kind}`: a fixed, small set. */
export function frameKind(f: Pick<Frame, "flags" | "appProtoId" | "code">): string {
  const app = f.appProtoId === APP.CONTROL ? "control" : f.appProtoId === APP.OBJECT ? "object" : f.appProtoId === APP.GOSSIP ? "gossip" : "other";
  if (f.code >= 400) return `${app}_error`;
  if (f.flags & FLAGS.EVENT) return `${app}_event`;
  if (f.flags & FLAGS.RESP) return `${app}_resp`;
  return `${app}_req`;
}
