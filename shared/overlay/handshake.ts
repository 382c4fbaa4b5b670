/**
 * @module The session handshake (docs/OAP1.md §3): X25519 through WebCrypto, optionally combined
 * with ML-KEM-768 (@noble/post-quantum), fed through HKDF-SHA256 salted with the transcript hash.
 * READY carries the server's MAC over the transcript and the client's first frame (CONFIRM) its
 * own, so a wrong key, a tampered share or a stripped PQ offer fails a MAC instead of yielding a
 * session. Both sides live here so they cannot drift apart; it runs in workerd, Node and browsers.
 */
import { decodeBase64, encodeBase64 } from "../base64";
import { HandshakeError } from "../domain-errors";
import { equalInConstantTime, joinChunks } from "../bytes";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 as sha256Sync } from "@noble/hashes/sha2.js";
import { confirmSchema, helloSchema, jsonBytes, parseJsonBytes, readySchema, SESSION_PROTOCOL_VERSION, type Hello, type PqMode, type PqOffer, type Ready, type SessionLimits } from "./protocol";

/**
 * ML-KEM-768, imported on the first hybrid handshake rather than at startup: @noble/post-quantum
 * and its SHA-3 build their tables when evaluated, a few ms of every isolate's startup.
 */
let mlKem: Promise<(typeof import("@noble/post-quantum/ml-kem.js"))["ml_kem768"]> | undefined;
const loadMlKem768 = () => (mlKem ??= import("@noble/post-quantum/ml-kem.js").then((m) => m.ml_kem768));

const TRANSCRIPT_LABEL = "ron/oap1 handshake v1";
const text = new TextEncoder();
const untext = new TextDecoder();
const BLANK_MAC = '"mac":""';

/** A handshake the local side refuses; `reason` is the metric label, `status` the frame code. */
export { HandshakeError };

interface Keys {
  sessionKey: Uint8Array;
  serverConfirmKey: Uint8Array;
  clientConfirmKey: Uint8Array;
}

async function sha256(...parts: Uint8Array[]): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", joinChunks(parts)));
}

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/** SHA-256 over the label, the HELLO payload and the READY payload with its MAC blanked, each length-prefixed. */
function transcriptHash(hello: Uint8Array, readyBlanked: Uint8Array): Promise<Uint8Array> {
  return sha256(text.encode(TRANSCRIPT_LABEL), u32(hello.length), hello, u32(readyBlanked.length), readyBlanked);
}

async function deriveKeys(secrets: Uint8Array[], transcript: Uint8Array, pq: PqOffer): Promise<Keys> {
  const ikm = await crypto.subtle.importKey("raw", joinChunks(secrets), "HKDF", false, ["deriveBits"]);
  const bits = new Uint8Array(await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: transcript, info: text.encode(`ron/oap1 keys v1 ${pq}`) }, ikm, 96 * 8));
  return { sessionKey: bits.slice(0, 32), serverConfirmKey: bits.slice(32, 64), clientConfirmKey: bits.slice(64, 96) };
}

const hmacKey = (raw: Uint8Array) => crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);

async function mac(key: Uint8Array, label: string, transcript: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(key), joinChunks([text.encode(label), transcript])));
}

/** Constant-time check (WebCrypto's verify) of a MAC given in base64. */
async function macMatches(key: Uint8Array, label: string, transcript: Uint8Array, given: string): Promise<boolean> {
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64(given);
  } catch {
    return false;
  }
  if (bytes.length !== 32) return false;
  return crypto.subtle.verify("HMAC", await hmacKey(key), bytes, joinChunks([text.encode(label), transcript]));
}

async function x25519KeyPair(): Promise<{ privateKey: CryptoKey; publicRaw: Uint8Array }> {
  const pair = (await crypto.subtle.generateKey({ name: "X25519" }, true, ["deriveBits"])) as CryptoKeyPair;
  const publicRaw = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
  return { privateKey: pair.privateKey, publicRaw };
}

async function x25519Secret(privateKey: CryptoKey, peerPublicRaw: Uint8Array): Promise<Uint8Array> {
  const peer = await crypto.subtle.importKey("raw", peerPublicRaw, { name: "X25519" }, false, []);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: "X25519", public: peer } as unknown as SubtleCryptoDeriveKeyAlgorithm, privateKey, 256));
}

/** FIPS 203 ML-KEM-768 encapsulation: 1184-byte key in, 1088-byte ciphertext and 32-byte secret out; throws on a bad key. */
export interface MlKemEncapsulator {
  encapsulate(publicKey: Uint8Array): { cipherText: Uint8Array; sharedSecret: Uint8Array };
}

const randomNonce = () => encodeBase64(crypto.getRandomValues(new Uint8Array(16)));

// ---------------------------------------------------------------- client side

export interface ClientHandshakeOptions {
  /** Offer the hybrid X25519 + ML-KEM-768 exchange (default) or classical X25519 only. */
  pq?: PqOffer;
  /** Refuse a server that answers a hybrid offer with a classical session. */
  requirePq?: boolean;
  ua?: string;
  maxFrame?: number;
  /** Capability token presented in HELLO (ops `overlay.fetch`, `overlay.publish`, `overlay.subscribe`). */
  token?: string;
}

export interface ClientSession {
  ready: Ready;
  sessionKey: Uint8Array;
  /** Payload of the CONFIRM frame the client must send first. */
  confirm: Uint8Array;
}

export interface ClientHandshake {
  /** Payload of the HELLO frame. */
  hello: Uint8Array;
  /** Check READY (MAC included) and derive the session; throws HandshakeError. */
  finish(readyPayload: Uint8Array): Promise<ClientSession>;
}

export async function startClientHandshake(options: ClientHandshakeOptions = {}): Promise<ClientHandshake> {
  const pq = options.pq ?? "hybrid";
  const x = await x25519KeyPair();
  const kem = pq === "hybrid" ? (await loadMlKem768()).keygen() : undefined;
  const helloMessage: Hello = {
    op: "hello",
    ua: options.ua ?? "ron-sdk/0.1",
    versions: [SESSION_PROTOCOL_VERSION],
    features: { compression: [], pq },
    max_frame: options.maxFrame ?? 1_048_576,
    ...(options.token ? { token: options.token } : {}),
    nonce: randomNonce(),
    key_shares: { x25519: encodeBase64(x.publicRaw), ...(kem ? { mlkem768: encodeBase64(kem.publicKey) } : {}) },
  };
  const hello = jsonBytes(helloMessage);

  async function finish(readyPayload: Uint8Array): Promise<ClientSession> {
    let ready: Ready;
    try {
      ready = readySchema.parse(parseJsonBytes(readyPayload));
    } catch (error) {
      throw new HandshakeError("bad_ready", 400, `READY does not parse: ${(error as Error).message}`);
    }
    if (ready.version !== SESSION_PROTOCOL_VERSION) throw new HandshakeError("version", 400, `server chose version ${ready.version}`);
    if (pq === "off" && ready.pq !== "off") throw new HandshakeError("bad_ready", 400, "server chose hybrid without an offer");
    if (pq === "hybrid" && ready.pq === "off" && options.requirePq) throw new HandshakeError("downgrade", 403, "server answered a hybrid offer with a classical session");
    const secrets = [await x25519Secret(x.privateKey, decodeBase64(ready.key_shares.x25519))];
    if (ready.pq === "hybrid") {
      if (!kem || !ready.key_shares.mlkem768_ct) throw new HandshakeError("bad_ready", 400, "hybrid READY without an ML-KEM ciphertext");
      secrets.push((await loadMlKem768()).decapsulate(decodeBase64(ready.key_shares.mlkem768_ct), kem.secretKey));
    }
    const raw = untext.decode(readyPayload);
    const blanked = raw.replace(`"mac":"${ready.mac}"`, BLANK_MAC);
    const transcript = await transcriptHash(hello, text.encode(blanked));
    const keys = await deriveKeys(secrets, transcript, ready.pq);
    if (!(await macMatches(keys.serverConfirmKey, "server finished", transcript, ready.mac))) {
      throw new HandshakeError("bad_mac", 401, "READY's MAC does not match the transcript: wrong key, or the handshake was tampered with");
    }
    const confirmMac = encodeBase64(await mac(keys.clientConfirmKey, "client finished", transcript));
    return { ready, sessionKey: keys.sessionKey, confirm: jsonBytes({ op: "confirm", mac: confirmMac }) };
  }

  return { hello, finish };
}

// ---------------------------------------------------------------- server side

export interface ServerHandshakeOptions {
  mode: PqMode;
  sessionId: string;
  limits: SessionLimits;
  /** Admit or refuse the parsed HELLO (e.g. its token) before any key exchange work; throws to refuse. */
  admit?: (hello: Hello) => void;
  /** The ML-KEM-768 to answer a hybrid offer with, fetched only then (default: @noble/post-quantum). */
  kem?: () => Promise<MlKemEncapsulator>;
}

/** What the server keeps between READY and CONFIRM (plain data: it goes into the socket attachment). */
export interface PendingConfirm {
  transcript: string;
  clientConfirmKey: string;
}

export interface ServerHandshake {
  ready: Uint8Array;
  pq: PqOffer;
  /** The limits READY announced. */
  limits: SessionLimits;
  pending: PendingConfirm;
}

/** Answer a HELLO payload with READY, or throw HandshakeError (bad_hello, version, pq_required). */
export async function acceptHello(helloPayload: Uint8Array, options: ServerHandshakeOptions): Promise<ServerHandshake> {
  let hello: Hello;
  try {
    hello = helloSchema.parse(parseJsonBytes(helloPayload));
  } catch (error) {
    throw new HandshakeError("bad_hello", 400, `HELLO does not parse: ${(error as Error).message.slice(0, 200)}`);
  }
  if (!hello.versions.includes(SESSION_PROTOCOL_VERSION)) throw new HandshakeError("version", 400, `no common version: offered ${hello.versions.join(",")}, serving ${SESSION_PROTOCOL_VERSION}`);
  if (hello.features.pq === "hybrid" && !hello.key_shares.mlkem768) throw new HandshakeError("bad_hello", 400, "hybrid offer without an ML-KEM-768 key share");
  if (options.mode === "pq_only" && hello.features.pq !== "hybrid") throw new HandshakeError("pq_required", 403, "this server accepts only hybrid post-quantum sessions");
  // admission (the token) after the cheap protocol checks, before any key exchange work
  options.admit?.(hello);
  const pq: PqOffer = options.mode !== "off" && hello.features.pq === "hybrid" ? "hybrid" : "off";

  // the schema checked both shares: strict base64 of the right length
  const clientX = decodeBase64(hello.key_shares.x25519);
  const x = await x25519KeyPair();
  let secrets: Uint8Array[];
  try {
    secrets = [await x25519Secret(x.privateKey, clientX)];
  } catch {
    throw new HandshakeError("bad_hello", 400, "x25519 share is not a usable public key");
  }
  let ciphertext: Uint8Array | undefined;
  if (pq === "hybrid") {
    const publicKey = decodeBase64(hello.key_shares.mlkem768!);
    const kem: MlKemEncapsulator = options.kem ? await options.kem() : await loadMlKem768();
    let encapsulated: { cipherText: Uint8Array; sharedSecret: Uint8Array };
    try {
      encapsulated = kem.encapsulate(publicKey);
    } catch {
      throw new HandshakeError("bad_hello", 400, "ML-KEM-768 share is not a valid encapsulation key");
    }
    ciphertext = encapsulated.cipherText;
    secrets.push(encapsulated.sharedSecret);
  }

  const readyMessage: Ready = {
    op: "ready",
    version: SESSION_PROTOCOL_VERSION,
    session: options.sessionId,
    pq,
    features: { compression: [] },
    limits: { ...options.limits, max_frame: Math.min(options.limits.max_frame, hello.max_frame) },
    nonce: randomNonce(),
    key_shares: { x25519: encodeBase64(x.publicRaw), ...(ciphertext ? { mlkem768_ct: encodeBase64(ciphertext) } : {}) },
    mac: "",
  };
  const blanked = JSON.stringify(readyMessage);
  const transcript = await transcriptHash(helloPayload, text.encode(blanked));
  const keys = await deriveKeys(secrets, transcript, pq);
  const serverMac = encodeBase64(await mac(keys.serverConfirmKey, "server finished", transcript));
  const ready = text.encode(blanked.replace(BLANK_MAC, `"mac":"${serverMac}"`));
  return { ready, pq, limits: readyMessage.limits, pending: { transcript: encodeBase64(transcript), clientConfirmKey: encodeBase64(keys.clientConfirmKey) } };
}

/**
 * Whether a CONFIRM payload carries the client's MAC over this transcript. Synchronous on purpose:
 * a client may send requests right behind CONFIRM, and the session must be open (or refused)
 * before the next frame's handler runs; an await here would let that frame in while CONFIRM is
 * still being checked.
 */
export function confirmMatches(payload: Uint8Array, pending: PendingConfirm): boolean {
  let parsed;
  let given: Uint8Array;
  try {
    parsed = confirmSchema.parse(parseJsonBytes(payload));
    given = decodeBase64(parsed.mac);
  } catch {
    return false;
  }
  const expected = hmac(sha256Sync, decodeBase64(pending.clientConfirmKey), joinChunks([text.encode("client finished"), decodeBase64(pending.transcript)]));
  return equalInConstantTime(given, expected);
}
