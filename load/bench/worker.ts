/**
 * @module Microbenchmarks that run inside workerd, where the code runs in production.
 * `GET /bench/<case>?size=N&ms=T` repeats the case for about T ms and reports the time per
 * operation. (Locally, workerd's `performance.now()` advances during CPU work, with 1 ms
 * resolution, so each case runs long enough for that to be noise.)
 */
import { blake3, blake3Tree } from "../../shared/blake3";
import { blake3HashWasm } from "../../shared/blake3/hash-wasm";
import { attenuateToken, judge, mintToken, rootKeyOf, verifyToken } from "../../shared/capability";
import { readDecodedBody } from "../../shared/body/read-body";
import { decideRange } from "../../shared/http/range";
import { decodeFrame, encodeFrame, FLAGS } from "../../shared/oap/codec";
import { ml_kem768 } from "@noble/post-quantum/ml-kem.js";
import { acceptHello, confirmMatches, startClientHandshake, type MlKemEncapsulator } from "../../shared/overlay/handshake";
import { wasmMlKem768 } from "../../shared/overlay/ml-kem";
import type { PqOffer, SessionLimits } from "../../shared/overlay/protocol";
import { github } from "../../shared/webhooks/providers";
import { MemoryMessageTable } from "../../shared/mailbox/message-table";
import { storeSend } from "../../shared/mailbox/send-rules";
import { RequestTiming } from "../../shared/timing";

const encoder = new TextEncoder();

function textBytes(length: number): Uint8Array {
  const words = ["edge", "node", "onion", "frame", "gossip", "tile", "object", "mailbox", "audit", "b3"];
  let out = "";
  let i = 0;
  while (out.length < length) out += `${words[i % words.length]}${(i++ * 7919) % 10000} `;
  return encoder.encode(out.slice(0, length));
}

async function compress(bytes: Uint8Array, format: "gzip"): Promise<Uint8Array> {
  return new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(new CompressionStream(format))).arrayBuffer());
}

type Case = (size: number) => Promise<() => Promise<unknown> | unknown>;

/** `size` bytes: 64 KiB of random bytes, repeated. */
function randomInput(size: number): Uint8Array {
  const data = crypto.getRandomValues(new Uint8Array(Math.min(size, 65536)));
  const input = new Uint8Array(size);
  for (let at = 0; at < size; at += data.length) input.set(data.subarray(0, Math.min(data.length, size - at)), at);
  return input;
}

const SESSION_LIMITS: SessionLimits = { max_frame: 1_048_576, chunk: 65_536, inflight: 32, rps: 200, send_window: 16, idle_timeout_ms: 60_000 };

/** The server's ML-KEM-768 (liboqs WASM, as OverlaySession uses it) or the clients' (noble). */
const SERVER_KEM = { wasm: wasmMlKem768, noble: async (): Promise<MlKemEncapsulator> => ml_kem768 };

/** Both ends of one overlay handshake in-process: HELLO, READY (MAC), CONFIRM checked. */
function fullHandshake(pq: PqOffer): Case {
  return async () => async () => {
    const client = await startClientHandshake({ pq });
    const server = await acceptHello(client.hello, { mode: "hybrid", sessionId: "bench", limits: SESSION_LIMITS, kem: SERVER_KEM.wasm });
    const established = await client.finish(server.ready);
    if (!(await confirmMatches(established.confirm, server.pending))) throw new Error("benchmark handshake did not confirm");
  };
}

/** The server's share of a handshake: answering a prepared HELLO with READY. */
function serverHandshake(pq: PqOffer, kem: keyof typeof SERVER_KEM = "wasm"): Case {
  return async () => {
    const hello = (await startClientHandshake({ pq })).hello;
    return () => acceptHello(hello, { mode: "hybrid", sessionId: "bench", limits: SESSION_LIMITS, kem: SERVER_KEM[kem] });
  };
}

/** One ML-KEM-768 encapsulation to a client's key: the server's post-quantum work per handshake. */
function encapsulate(kem: keyof typeof SERVER_KEM): Case {
  return async () => {
    const { publicKey } = ml_kem768.keygen();
    const implementation = await SERVER_KEM[kem]();
    return () => implementation.encapsulate(publicKey);
  };
}

const LIMITS = { maxWireBytes: 64 * 1024 * 1024, ratioCap: 10, maxDecodedBytes: 64 * 1024 * 1024 };
/** A signal that never aborts (created lazily: workerd refuses it at global scope). */
const never = () => new AbortController().signal;

const cases: Record<string, Case> = {
  async "token-verify"(caveats) {
    // a full check of a token with `size` caveats: decode, HMAC chain under the root key, then the
    // caveats judged against a request (what an uncached request pays; repeats hit a per-isolate cache)
    const root = rootKeyOf(crypto.getRandomValues(new Uint8Array(32)));
    let token = mintToken(root, {});
    const specs = [{ ops: ["admin" as const] }, { expires: 4_000_000_000 }, { maxBytes: 1_048_576 }, { ops: ["put" as const, "edge.put" as const] }];
    for (let i = 0; i < caveats; i++) token = attenuateToken(token, specs[i % specs.length]!);
    const keyring = { current: root };
    return () => {
      const verified = verifyToken(token, keyring);
      if (!judge(verified.grant, { op: "put", bytes: 1024 }, 1_800_000_000).ok) throw new Error("benchmark token refused");
    };
  },
  async blake3(size) {
    const data = crypto.getRandomValues(new Uint8Array(Math.min(size, 65536)));
    const input = new Uint8Array(size);
    for (let at = 0; at < size; at += data.length) input.set(data.subarray(0, Math.min(data.length, size - at)), at);
    return () => blake3().hash(input);
  },
  // the two engines side by side (npm run bench reports their ratio): hash-wasm's module, and ours
  async "blake3-hash-wasm"(size) {
    const input = randomInput(size);
    return () => blake3HashWasm().hash(input);
  },
  async "blake3-simd"(size) {
    const input = randomInput(size);
    return () => blake3Tree().hash(input);
  },
  async "webhook-verify-github"(size) {
    // the real verifier: header parsing, hex decoding, HMAC-SHA256 compared in constant time
    const secret = "bench-secret-value";
    const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const body = textBytes(size);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, body));
    const headers = new Headers({ "x-hub-signature-256": `sha256=${[...mac].map((b) => b.toString(16).padStart(2, "0")).join("")}`, "x-github-delivery": "bench" });
    return async () => {
      const verdict = await github.verify({ headers, body, secrets: [secret], nowSeconds: 0, toleranceSeconds: 300 });
      if (!verdict.ok) throw new Error("benchmark signature did not verify");
    };
  },
  async "gzip-decode-capped"(size) {
    const wire = await compress(textBytes(size), "gzip");
    return () => readDecodedBody(new Blob([wire]).stream(), "gzip", LIMITS, never(), wire.length);
  },
  async "zstd-decode-capped"(size) {
    const { zstdCompressSync } = await import("node:zlib");
    // workerd's zstd compressor fails above ~170 KB, so larger inputs repeat one compressed frame
    const frameSize = Math.min(size, 128 * 1024);
    const frame = new Uint8Array(zstdCompressSync(textBytes(frameSize)));
    const frames = Math.ceil(size / frameSize);
    const wire = new Uint8Array(frame.length * frames);
    for (let i = 0; i < frames; i++) wire.set(frame, i * frame.length);
    return () => readDecodedBody(new Blob([wire]).stream(), "zstd", LIMITS, never(), wire.length);
  },
  async "identity-read-hash"(size) {
    const body = textBytes(size);
    return () => readDecodedBody(new Blob([body]).stream(), "identity", LIMITS, never(), body.length);
  },
  async "oap-encode"(size) {
    const frame = { ver: 1, flags: FLAGS.EVENT, code: 0, appProtoId: 1, tenantId: 0n, corrId: 42n, cap: new Uint8Array(0), payload: textBytes(size) };
    return () => encodeFrame(frame);
  },
  async "oap-decode"(size) {
    const bytes = encodeFrame({ ver: 1, flags: FLAGS.EVENT, code: 0, appProtoId: 1, tenantId: 0n, corrId: 42n, cap: new Uint8Array(0), payload: textBytes(size) });
    return () => decodeFrame(bytes);
  },
  "handshake-classical": fullHandshake("off"),
  "handshake-hybrid": fullHandshake("hybrid"),
  "handshake-server-classical": serverHandshake("off"),
  "handshake-server-hybrid": serverHandshake("hybrid"),
  "handshake-server-hybrid-noble": serverHandshake("hybrid", "noble"),
  "mlkem-encapsulate-wasm": encapsulate("wasm"),
  "mlkem-encapsulate-noble": encapsulate("noble"),
  async "mailbox-send"(depth) {
    // an amnesia topic holding `depth` live messages: each op is one send (tidy, dedupe lookup,
    // depth check, insert) and then a consumer's ack of the oldest, so the depth stays put while
    // ack tombstones and dedupe entries come and expire. The clock is simulated (1 ms per op, a
    // 20 ms dedupe window: ~20 of each in steady state), so only the depth varies between sizes.
    const table = new MemoryMessageTable();
    const limits = { capacity: depth + 1, dedupeMs: 20, deadCapacity: 64 };
    let clock = 0;
    const payload = textBytes(64);
    const live: string[] = [];
    let n = 0;
    const send = () => {
      const now = ++clock;
      const outcome = storeSend(table, { idem_key: `k${n++}`, payload, payload_hash: "h", attrs: {}, corr_id: "bench" }, limits, now);
      if (outcome.status !== "sent") throw new Error(`benchmark send was ${outcome.status}`);
      live.push(outcome.msg_id);
      return now;
    };
    for (let i = 0; i < depth; i++) send();
    let head = 0;
    return () => {
      const now = send();
      const oldest = table.get(live[head]!)!;
      head++;
      table.update({ ...oldest, state: "acked", payload: new Uint8Array(0), forget_at: now + limits.dedupeMs });
      if (head > 65536) {
        live.splice(0, head);
        head = 0;
      }
    };
  },
  async "server-timing"() {
    // what Server-Timing adds to a request that reads the store: the recorder, one timed call
    // (an already-settled promise, so only the bookkeeping is measured), a hash entry, the header
    const settled = Promise.resolve(null);
    return async () => {
      const timing = new RequestTiming();
      await timing.measure("store", settled);
      timing.add("hash", 0.1);
      return timing.header(timing.elapsed());
    };
  },
  async "range-parse"() {
    const headers = ["bytes=0-99", "bytes=100-", "bytes=-500", "bytes=5-2", "bytes=0-1,5-6", "items=0-1", "bytes=999999-"];
    let i = 0;
    return () => decideRange(headers[i++ % headers.length]!, 100000);
  },
};

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const name = url.pathname.replace(/^\/bench\//, "");
    const make = cases[name];
    if (!make) return Response.json({ error: `unknown case ${name}`, cases: Object.keys(cases) }, { status: 404 });
    const size = Number(url.searchParams.get("size") ?? 4096);
    const budgetMs = Number(url.searchParams.get("ms") ?? 300);
    const op = await make(size);
    for (let i = 0; i < 3; i++) await op(); // warm-up
    let iterations = 0;
    const started = performance.now();
    while (performance.now() - started < budgetMs) {
      await op();
      iterations++;
    }
    const elapsedMs = performance.now() - started;
    const nsPerOp = (elapsedMs * 1e6) / iterations;
    return Response.json({ case: name, size, iterations, elapsed_ms: elapsedMs, ns_per_op: nsPerOp, mib_per_s: name === "range-parse" || name === "server-timing" || name === "token-verify" || name === "mailbox-send" || name.startsWith("handshake") || name.startsWith("mlkem") ? null : (size / 1048576) / (nsPerOp / 1e9) });
  },
};
