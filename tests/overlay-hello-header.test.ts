/**
 * The one-round-trip handshake (docs/OAP1.md §2): HELLO in the upgrade's `OAP-Hello` header, READY
 * as the socket's first frame. Judged exactly as a HELLO frame; a refusal is an HTTP answer with
 * the JSON envelope (never a 101), counted once, and /readyz stays 200.
 */
import { describe, expect, it } from "vitest";
import { FLAGS } from "../shared/oap/codec";
import { startClientHandshake } from "../shared/overlay/handshake";
import { encodeHelloHeader, HELLO_HEADER, MAX_HELLO_HEADER_CHARS } from "../shared/overlay/hello-header";
import { APP, CLOSE, jsonBytes, parseJsonBytes } from "../shared/overlay/protocol";
import { errorEnvelopeSchema } from "../shared/openapi/common";
import { connectOverlay, prepareUpgradeHello, type UpgradeHello } from "../sdk";
import type { WebSocketLike } from "../sdk/socket";
import { blake3 } from "../shared/blake3";
import { call, metricsText, putRaw, randomBytes, TOKEN, tokenFor } from "./helpers";
import { FrameLog, helloFrame, metricValue, openSession } from "./overlay-helpers";

const now = () => Math.floor(Date.now() / 1000);
const blake3Hex = (bytes: Uint8Array) => blake3().hashHex(bytes);

/** `GET /overlay` with `headers` on the upgrade. */
const upgrade = (headers: Record<string, string>, overrides: Record<string, string> = {}) => call("/overlay", { headers: { Upgrade: "websocket", ...headers } }, overrides);

/** A real HELLO payload (fresh key shares), its JSON changed by `edit`. */
async function helloBytes(edit: (hello: Record<string, unknown>) => void = () => {}, options: { token?: string; pq?: "off" | "hybrid" } = { token: TOKEN, pq: "off" }): Promise<Uint8Array> {
  const hello = parseJsonBytes((await startClientHandshake(options)).hello) as Record<string, unknown>;
  edit(hello);
  return jsonBytes(hello);
}

/** Every overlay_handshake_failures_total series added up. */
async function allHandshakeFailures(): Promise<number> {
  const text = await metricsText();
  return [...text.matchAll(/^overlay_handshake_failures_total\{[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

/** Open a socket with a header HELLO and finish the session through the SDK. */
async function openHeaderSession(prepared: UpgradeHello, overrides: Record<string, string> = {}, headers: Record<string, string> = {}) {
  const response = await upgrade({ ...prepared.headers, ...headers }, overrides);
  expect(response.status).toBe(101);
  const socket = response.webSocket!;
  socket.accept();
  return connectOverlay({ socket: socket as unknown as WebSocketLike, upgradeHello: prepared, token: TOKEN, blake3Hex });
}

describe("HELLO in the upgrade header", () => {
  it("READY is the socket's first frame, before the client sends anything (corr 0, the MAC checks out)", async () => {
    const handshake = await startClientHandshake({ token: TOKEN, pq: "hybrid" });
    const before = await metricValue("overlay_pq_negotiations_total", { mode: "hybrid", outcome: "hybrid" });
    const response = await upgrade({ [HELLO_HEADER]: encodeHelloHeader(handshake.hello) });
    expect(response.status).toBe(101);
    const socket = response.webSocket!;
    socket.accept();
    const log = new FrameLog(socket);
    await log.until(() => log.frames.length === 1);
    const ready = log.frames[0]!;
    expect(ready).toMatchObject({ code: 200, appProtoId: APP.CONTROL, corrId: 0n });
    expect(ready.flags & FLAGS.RESP).toBeTruthy();
    const session = await handshake.finish(ready.payload); // throws unless READY's MAC is over this HELLO
    expect(session.ready.pq).toBe("hybrid");
    expect(await metricValue("overlay_pq_negotiations_total", { mode: "hybrid", outcome: "hybrid" })).toBe(before + 1);
    socket.close(1000, "done");
  });

  it("a session opened this way reaches confirmed and serves a fetch pipelined behind CONFIRM", async () => {
    const bytes = randomBytes(3_000);
    const { address } = await (await putRaw(bytes)).json<{ address: string }>();
    const client = await openHeaderSession(await prepareUpgradeHello({ token: TOKEN, pq: "hybrid" }));
    expect(client.session.pq).toBe("hybrid");
    const fetched = client.fetch(address); // sent before CONFIRM's answer is in
    await client.confirmed;
    expect(await fetched).toEqual(bytes);
    client.close();
  });

  it("refuses a bad header HELLO with an HTTP answer: status, envelope, counted once, no session, /readyz 200", async () => {
    const cases: [string, () => Promise<string>, number, string, Record<string, string>?][] = [
      ["not base64url", async () => "not+base64/url==", 400, "bad_hello"],
      ["not JSON", async () => encodeHelloHeader(new TextEncoder().encode("{not json")), 400, "bad_hello"],
      ["a known field of the wrong kind", async () => encodeHelloHeader(await helloBytes((h) => (h.features = { pq: "quantum" }))), 400, "bad_hello"],
      ["oversize", async () => "A".repeat(MAX_HELLO_HEADER_CHARS + 4), 431, "hello_too_large"],
      ["no common version", async () => encodeHelloHeader(await helloBytes((h) => (h.versions = [2]))), 400, "version"],
      ["a bad token", async () => encodeHelloHeader(await helloBytes((h) => (h.token = "garbage-token"))), 401, "bad_token"],
      ["no token", async () => encodeHelloHeader(await helloBytes((h) => delete h.token)), 401, "missing_token"],
      ["an expired token", async () => encodeHelloHeader(await helloBytes((h) => (h.token = tokenFor({ expires: now() - 1 })))), 401, "expired"],
      ["a token without overlay ops", async () => encodeHelloHeader(await helloBytes((h) => (h.token = tokenFor({ ops: ["put"] })))), 403, "caveat"],
      ["a classical offer under pq_only", async () => encodeHelloHeader(await helloBytes()), 403, "pq_required", { OVERLAY_PQ_MODE: "pq_only" }],
    ];
    const isToken = (reason: string) => ["bad_token", "missing_token", "expired", "caveat"].includes(reason);
    for (const [what, header, status, reason, overrides] of cases) {
      const value = await header();
      const failures = await metricValue("overlay_handshake_failures_total", { reason });
      const denied = await metricValue("auth_denied_total", { reason });
      const all = await allHandshakeFailures();
      const sessions = await metricValue("overlay_sessions_active");
      const response = await upgrade({ [HELLO_HEADER]: value }, overrides);
      expect(response.status, what).toBe(status);
      expect(response.webSocket, what).toBeNull();
      const envelope = errorEnvelopeSchema.parse(await response.json());
      expect(envelope, what).toMatchObject({ reason, retryable: false });
      if (status === 401) expect(response.headers.get("www-authenticate"), what).toContain("Bearer");
      expect(await metricValue("overlay_handshake_failures_total", { reason }), what).toBe(failures + 1);
      expect(await allHandshakeFailures(), what).toBe(all + 1);
      expect(await metricValue("auth_denied_total", { reason }), what).toBe(denied + (isToken(reason) ? 1 : 0));
      // no session was opened (earlier tests' sessions may still be closing: the gauge only falls)
      expect(await metricValue("overlay_sessions_active"), what).toBeLessThanOrEqual(sessions);
    }
    expect((await call("/readyz")).status).toBe(200);
  });

  it("a refused header HELLO gives its client's session slot back", async () => {
    const limit = { OVERLAY_MAX_SESSIONS_PER_CLIENT: "1" };
    const ip = { "CF-Connecting-IP": "203.0.113.41" }; // a client of its own: other tests' sessions do not count
    for (let i = 0; i < 3; i++) {
      const refused = await upgrade({ ...ip, [HELLO_HEADER]: encodeHelloHeader(await helloBytes((h) => (h.token = "garbage-token"))) }, limit);
      expect(refused.status).toBe(401);
    }
    const client = await openHeaderSession(await prepareUpgradeHello({ token: TOKEN, pq: "off" }), limit, ip);
    await client.confirmed;
    client.close();
    await client.closed;
  });

  it("a HELLO frame after a header HELLO is a protocol error: 400 duplicate_hello, close 1002", async () => {
    const handshake = await startClientHandshake({ token: TOKEN, pq: "off" });
    const failures = await metricValue("overlay_handshake_failures_total", { reason: "duplicate_hello" });
    const response = await upgrade({ [HELLO_HEADER]: encodeHelloHeader(handshake.hello) });
    expect(response.status).toBe(101);
    const socket = response.webSocket!;
    socket.accept();
    const log = new FrameLog(socket);
    await log.until(() => log.frames.length === 1); // READY
    socket.send(helloFrame(parseJsonBytes(handshake.hello), 1n));
    await log.until(() => log.closed !== undefined);
    expect(log.frames[1]).toMatchObject({ code: 400, corrId: 1n });
    expect(parseJsonBytes(log.frames[1]!.payload)).toMatchObject({ reason: "duplicate_hello" });
    expect(log.closed).toEqual({ code: CLOSE.PROTOCOL, reason: "duplicate_hello" });
    expect(await metricValue("overlay_handshake_failures_total", { reason: "duplicate_hello" })).toBe(failures + 1);
    expect((await call("/readyz")).status).toBe(200);
  });

  it("CONFIRM must still come within the handshake timeout: close 4408, counted as timeout", async () => {
    const handshake = await startClientHandshake({ token: TOKEN, pq: "off" });
    const timeouts = await metricValue("overlay_handshake_failures_total", { reason: "timeout" });
    const response = await upgrade({ [HELLO_HEADER]: encodeHelloHeader(handshake.hello) }, { OVERLAY_HANDSHAKE_TIMEOUT_MS: "300" });
    const socket = response.webSocket!;
    socket.accept();
    const log = new FrameLog(socket);
    await log.until(() => log.closed !== undefined, 3_000);
    expect(log.frames).toHaveLength(1); // READY, then nothing until the timeout
    expect(log.closed).toEqual({ code: CLOSE.HANDSHAKE_TIMEOUT, reason: "handshake_timeout" });
    expect(await metricValue("overlay_handshake_failures_total", { reason: "timeout" })).toBe(timeouts + 1);
  });

  it("unknown HELLO fields are ignored here as in a frame (docs/OAP1.md §8)", async () => {
    const response = await upgrade({ [HELLO_HEADER]: encodeHelloHeader(await helloBytes((h) => (h.future_field = { x: 1 }))) });
    expect(response.status).toBe(101);
    response.webSocket!.accept();
    response.webSocket!.close(1000, "done");
  });

  it("the HELLO-frame path is unchanged for clients that send no header", async () => {
    const bytes = randomBytes(1_000);
    const { address } = await (await putRaw(bytes)).json<{ address: string }>();
    const client = await openSession({ pq: "hybrid" });
    await client.confirmed;
    expect(await client.fetch(address)).toEqual(bytes);
    client.close();
  });
});
