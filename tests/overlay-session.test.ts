/**
 * Overlay sessions end to end inside workerd: `GET /overlay` upgrades into a session Durable
 * Object; the SDK runs the handshake (classical and hybrid), and the server's refusals, timeouts
 * and frame checks are seen from the client's side and in /metrics.
 */
import { describe, expect, it } from "vitest";
import { encodeFrame, FLAGS } from "../shared/oap/codec";
import { startClientHandshake, HandshakeError } from "../shared/overlay/handshake";
import { APP, CLOSE, frame, parseJsonBytes } from "../shared/overlay/protocol";
import { OverlayError } from "../sdk";
import { call, envelopeOf, R2, TOKEN, metricsText } from "./helpers";
import { FrameLog, helloFrame, metricValue, openRawSocket, openSession, sleep } from "./overlay-helpers";


describe("GET /overlay", () => {
  it("answers a plain GET with 426 and the JSON envelope", async () => {
    const response = await call("/overlay");
    expect(response.status).toBe(426);
    expect(response.headers.get("upgrade")).toBe("websocket");
    const body = await envelopeOf(response);
    expect(body.code).toBe("UPGRADE_REQUIRED");
  });

  it("declines permessage-deflate: the 101 carries an empty Sec-WebSocket-Extensions (workerd's 'no compression')", async () => {
    const response = await call("/overlay", { headers: { Upgrade: "websocket", "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits" } });
    expect(response.status).toBe(101);
    expect(response.headers.get("sec-websocket-extensions")).toBe("");
    response.webSocket!.accept();
    response.webSocket!.close(1000, "done");
  });

  it("refuses other methods with 405", async () => {
    const response = await call("/overlay", { method: "POST", body: "x" });
    expect(response.status).toBe(405);
  });
});

describe("handshake", () => {
  it("opens a hybrid session: READY's MAC checks out and both sides confirm", async () => {
    const before = await metricValue("overlay_pq_negotiations_total", { mode: "hybrid", outcome: "hybrid" });
    const client = await openSession({ pq: "hybrid" });
    expect(client.session.pq).toBe("hybrid");
    expect(client.session.version).toBe(1);
    expect(client.session.limits).toEqual({ max_frame: 1_048_576, chunk: 65_536, inflight: 32, rps: 200, send_window: 32, idle_timeout_ms: 30_000 });
    expect(client.session.key_shares.mlkem768_ct).toBeDefined();
    expect(client.sessionKey).toHaveLength(32);
    expect(await metricValue("overlay_pq_negotiations_total", { mode: "hybrid", outcome: "hybrid" })).toBe(before + 1);
    expect(await metricValue("overlay_sessions_active")).toBeGreaterThanOrEqual(1);
    client.close();
  });

  it("opens a classical session when the client offers no PQ share", async () => {
    const client = await openSession({ pq: "off" });
    expect(client.session.pq).toBe("off");
    expect(client.session.key_shares.mlkem768_ct).toBeUndefined();
    client.close();
  });

  it("answers a hybrid offer classically when the server's pq mode is off; a client requiring PQ refuses", async () => {
    const client = await openSession({ pq: "hybrid" }, { OVERLAY_PQ_MODE: "off" });
    expect(client.session.pq).toBe("off");
    client.close();
    await expect(openSession({ pq: "hybrid", requirePq: true }, { OVERLAY_PQ_MODE: "off" })).rejects.toMatchObject({ reason: "downgrade" });
  });

  it("refuses a classical client under pq_only: 403 pq_required, the session closes, and it is counted", async () => {
    const failures = await metricValue("overlay_handshake_failures_total", { reason: "pq_required" });
    const refused = await metricValue("overlay_pq_negotiations_total", { mode: "pq_only", outcome: "refused" });
    const socket = await openRawSocket({ OVERLAY_PQ_MODE: "pq_only" });
    const log = new FrameLog(socket);
    const { connectOverlay } = await import("../sdk");
    const error = await connectOverlay({ socket: socket as never, pq: "off", token: TOKEN }).catch((e) => e);
    expect(error).toBeInstanceOf(OverlayError);
    expect(error).toMatchObject({ status: 403, reason: "pq_required" });
    await log.until(() => log.closed !== undefined);
    expect(log.closed!.code).toBe(CLOSE.POLICY);
    expect(await metricValue("overlay_handshake_failures_total", { reason: "pq_required" })).toBe(failures + 1);
    expect(await metricValue("overlay_pq_negotiations_total", { mode: "pq_only", outcome: "refused" })).toBe(refused + 1);
    // a hybrid client is welcome under pq_only
    const client = await openSession({ pq: "hybrid" }, { OVERLAY_PQ_MODE: "pq_only" });
    expect(client.session.pq).toBe("hybrid");
    client.close();
  });

  it("detects a stripped PQ offer (downgrade by a man in the middle): READY's MAC fails on the client", async () => {
    // The client offers hybrid; a middlebox removes the ML-KEM share before the server sees it.
    const client = await startClientHandshake({ pq: "hybrid", token: TOKEN });
    const stripped = parseJsonBytes(client.hello) as { features: { pq: string }; key_shares: Record<string, string> };
    stripped.features.pq = "off";
    delete stripped.key_shares.mlkem768;
    const socket = await openRawSocket();
    const log = new FrameLog(socket);
    socket.send(helloFrame(stripped));
    await log.until(() => log.frames.length === 1);
    expect(log.frames[0]!.code).toBe(200);
    // The server went classical on the stripped HELLO; the client's transcript has the original.
    const error = await client.finish(log.frames[0]!.payload).catch((e) => e);
    expect(error).toBeInstanceOf(HandshakeError);
    expect(error.reason).toBe("bad_mac");
    socket.close(1000, "done");
  });

  it("detects a wrong key: a tampered server share fails READY's MAC", async () => {
    const client = await startClientHandshake({ pq: "hybrid", token: TOKEN });
    const socket = await openRawSocket();
    const log = new FrameLog(socket);
    socket.send(helloFrame(parseJsonBytes(client.hello)));
    await log.until(() => log.frames.length === 1);
    const ready = parseJsonBytes(log.frames[0]!.payload) as { key_shares: { mlkem768_ct: string } };
    const ct = ready.key_shares.mlkem768_ct;
    // flip one base64 digit of the ML-KEM ciphertext: decapsulation yields a different secret
    const tampered = ct.slice(0, 10) + (ct[10] === "A" ? "B" : "A") + ct.slice(11);
    const raw = new TextDecoder().decode(log.frames[0]!.payload).replace(ct, tampered);
    await expect(client.finish(new TextEncoder().encode(raw))).rejects.toMatchObject({ reason: "bad_mac" });
    socket.close(1000, "done");
  });

  const wrongMac = (confirm: Uint8Array) => {
    const mac = (parseJsonBytes(confirm) as { mac: string }).mac;
    return new TextEncoder().encode(JSON.stringify({ op: "confirm", mac: (mac[0] === "A" ? "B" : "A") + mac.slice(1) }));
  };

  it("refuses a client whose CONFIRM MAC is wrong: 401 bad_confirm, closed, counted", async () => {
    const before = await metricValue("overlay_handshake_failures_total", { reason: "bad_confirm" });
    const error = await openSession({ tamperConfirm: wrongMac, awaitConfirm: true }).catch((e) => e);
    expect(error).toMatchObject({ status: 401, reason: "bad_confirm" });
    expect(await metricValue("overlay_handshake_failures_total", { reason: "bad_confirm" })).toBe(before + 1);
  });

  it("a session is usable right after CONFIRM is sent (two round trips); a refused CONFIRM fails what was sent behind it", async () => {
    // the SDK's default: no wait for the answer to CONFIRM
    const good = await openSession();
    await expect(good.fetch(`b3:${"2".repeat(64)}`)).rejects.toMatchObject({ status: 404 });
    await expect(good.confirmed).resolves.toBeUndefined();
    good.close();

    const bad = await openSession({ tamperConfirm: wrongMac });
    const behind = bad.fetch(`b3:${"2".repeat(64)}`).catch((e) => e);
    await expect(bad.confirmed).rejects.toMatchObject({ status: 401, reason: "bad_confirm" });
    // the request behind a refused CONFIRM is never served: the session closed with the refusal
    expect(await behind).not.toMatchObject({ status: 404 });
    expect((await bad.closed).code).toBe(1008);
  });

  /** A raw socket through HELLO → READY (corr 1), and the CONFIRM the client would send next. */
  const upToReady = async () => {
    const client = await startClientHandshake({ pq: "hybrid", token: TOKEN });
    const socket = await openRawSocket();
    const log = new FrameLog(socket);
    socket.send(helloFrame(parseJsonBytes(client.hello), 1n));
    await log.until(() => log.frames.length === 1);
    const { confirm } = await client.finish(log.frames[0]!.payload);
    return { socket, log, confirm };
  };

  it("keeps requests that arrive before CONFIRM until it is checked: served after a good one, never after a bad one, at most 16", async () => {
    const fetchFrame = (corr: bigint) => frame({ flags: FLAGS.REQ, appProtoId: APP.OBJECT, corrId: corr, payload: new TextEncoder().encode(`b3:${"1".repeat(64)}`) });
    for (const good of [true, false]) {
      const { socket, log, confirm } = await upToReady();
      // early data first (as a reordering network or a client racing ahead would deliver it)
      for (let corr = 10n; corr < 27n; corr++) socket.send(fetchFrame(corr));
      await log.until(() => log.frames.length === 2); // the 17th is over the bound
      // which one is 17th is the runtime's choice: under load workerd was seen delivering a burst of
      // socket messages to the object out of send order (CI: corr 23 refused, 24–26 held)
      const refused = Number(log.frames[1]!.corrId);
      expect(refused).toBeGreaterThanOrEqual(10);
      expect(refused).toBeLessThan(27);
      expect([log.frames[1]!.code, (parseJsonBytes(log.frames[1]!.payload) as { reason: string }).reason]).toEqual([429, "peer_inflight"]);
      const mac = (parseJsonBytes(confirm) as { mac: string }).mac;
      const sent = good ? confirm : new TextEncoder().encode(JSON.stringify({ op: "confirm", mac: (mac[0] === "A" ? "B" : "A") + mac.slice(1) }));
      socket.send(frame({ flags: FLAGS.REQ, appProtoId: APP.CONTROL, corrId: 2n, payload: sent }));
      if (good) {
        await log.until(() => log.frames.length === 19);
        expect([Number(log.frames[2]!.corrId), log.frames[2]!.code]).toEqual([2, 200]);
        // served once CONFIRM checked out, each answered (concurrently, as any pipelined requests)
        expect(log.frames.slice(3).map((f) => [Number(f.corrId), f.code]).sort((a, b) => a[0]! - b[0]!)).toEqual(Array.from({ length: 17 }, (_, i) => [10 + i, 404]).filter(([corr]) => corr !== refused));
        socket.close(1000, "done");
      } else {
        await log.until(() => log.closed !== undefined);
        expect(log.frames.slice(2).map((f) => [Number(f.corrId), f.code])).toEqual([[2, 401]]);
        expect(log.closed).toMatchObject({ code: 1008 });
      }
    }
  });

  it("serves a request pipelined right behind CONFIRM, in order", async () => {
    const { socket, log, confirm } = await upToReady();
    socket.send(frame({ flags: FLAGS.REQ, appProtoId: APP.CONTROL, corrId: 2n, payload: confirm }));
    socket.send(frame({ flags: FLAGS.REQ, appProtoId: APP.OBJECT, corrId: 3n, payload: new TextEncoder().encode(`b3:${"1".repeat(64)}`) }));
    await log.until(() => log.frames.length === 3);
    expect(log.frames.map((f) => [Number(f.corrId), f.code])).toEqual([[1, 200], [2, 200], [3, 404]]);
    expect(log.closed).toBeUndefined();
    socket.close(1000, "done");
  });

  it("refuses a HELLO that does not parse, and a version it does not speak", async () => {
    for (const [hello, reason] of [
      [{ op: "hello", versions: [1] }, "bad_hello"],
      [{ op: "hello", versions: [7], features: { pq: "off" }, max_frame: 1048576, nonce: "AAAAAAAAAAAAAAAAAAAAAA==", key_shares: { x25519: "A".repeat(43) + "=" } }, "version"],
    ] as const) {
      const socket = await openRawSocket();
      const log = new FrameLog(socket);
      socket.send(helloFrame(hello));
      await log.until(() => log.closed !== undefined);
      expect(log.frames[0]!.code).toBe(400);
      expect((parseJsonBytes(log.frames[0]!.payload) as { reason: string }).reason).toBe(reason);
      expect(log.closed!).toEqual({ code: CLOSE.POLICY, reason });
    }
  });

  it("refuses a HELLO whose key share is not strict base64 (bad padding): 400 bad_hello, close 1008, counted once, /readyz stays 200", async () => {
    const total = async () => {
      const text = await metricsText();
      return [...text.matchAll(/^overlay_handshake_failures_total\{[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    };
    const good = { op: "hello", versions: [1], max_frame: 1048576, nonce: "AAAAAAAAAAAAAAAAAAAAAA==" };
    for (const hello of [
      // 41 digits then "==": the old schema's loose pattern let it through to a decoder that threw
      { ...good, features: { pq: "off" }, key_shares: { x25519: "A".repeat(41) + "==" } },
      { ...good, features: { pq: "hybrid" }, key_shares: { x25519: "A".repeat(43) + "=", mlkem768: "A".repeat(1_577) + "==" } },
    ]) {
      const badHello = await metricValue("overlay_handshake_failures_total", { reason: "bad_hello" });
      const internal = await metricValue("overlay_handshake_failures_total", { reason: "internal" });
      const all = await total();
      const socket = await openRawSocket();
      const log = new FrameLog(socket);
      socket.send(helloFrame(hello));
      await log.until(() => log.closed !== undefined);
      expect(log.frames).toHaveLength(1);
      expect(log.frames[0]!.code).toBe(400);
      expect(parseJsonBytes(log.frames[0]!.payload)).toMatchObject({ code: "BAD_REQUEST", reason: "bad_hello" });
      expect(log.closed).toEqual({ code: CLOSE.POLICY, reason: "bad_hello" });
      expect(await metricValue("overlay_handshake_failures_total", { reason: "bad_hello" })).toBe(badHello + 1);
      expect(await metricValue("overlay_handshake_failures_total", { reason: "internal" })).toBe(internal);
      expect(await total()).toBe(all + 1);
      const ready = await call("/readyz");
      expect(ready.status).toBe(200);
    }
  });

  it("closes a session that sends no HELLO within the handshake timeout", async () => {
    const before = await metricValue("overlay_handshake_failures_total", { reason: "timeout" });
    const socket = await openRawSocket({ OVERLAY_HANDSHAKE_TIMEOUT_MS: "300" });
    const log = new FrameLog(socket);
    await log.until(() => log.closed !== undefined, 5_000);
    expect(log.closed!).toEqual({ code: CLOSE.HANDSHAKE_TIMEOUT, reason: "handshake_timeout" });
    expect(await metricValue("overlay_handshake_failures_total", { reason: "timeout" })).toBe(before + 1);
  });

  it("closes a session idle past OVERLAY_IDLE_TIMEOUT_MS", async () => {
    const client = await openSession({}, { OVERLAY_IDLE_TIMEOUT_MS: "1000" });
    const closed = await client.closed;
    expect(closed).toEqual({ code: CLOSE.IDLE, reason: "idle_timeout" });
  });
});

describe("hibernation", () => {
  // workerd evicts an idle instance after about ten seconds; the socket and its attachment stay.
  // Persistent mode: its idle timeout is a storage alarm. (In amnesia mode the idle timeout is a
  // timer, which writes nothing but keeps the object in memory while the socket is open.)
  it("keeps an idle session through hibernation: the object wakes around the open socket and serves it", async () => {
    const client = await openSession({}, R2);
    const bytes = new TextEncoder().encode("still here after a nap");
    const { address } = (await (await call("/put", { method: "POST", body: bytes, headers: { "Content-Type": "application/octet-stream" } }, R2)).json()) as { address: string };
    const wakes = await metricValue("overlay_session_wakes_total");
    await sleep(16_000); // measured: instances idle ~12 s are gone (TOOLCHAIN §6)
    expect(new TextDecoder().decode(await client.fetch(address))).toBe("still here after a nap");
    expect(await metricValue("overlay_session_wakes_total")).toBeGreaterThan(wakes);
    client.close();
  }, 30_000);
});

describe("frame checks", () => {
  it("closes the session on a malformed frame, naming the codec error", async () => {
    const before = await metricValue("rejected_total", { reason: "malformed_frame" });
    const client = await openSession();
    const bad = encodeFrame({ ver: 1, flags: FLAGS.REQ, code: 0, appProtoId: APP.OBJECT, tenantId: 0n, corrId: 9n, cap: new Uint8Array(0), payload: new Uint8Array(4) });
    bad[5] = 2; // version 2
    client.sendRaw(bad);
    expect(await client.closed).toEqual({ code: CLOSE.PROTOCOL, reason: "BadVersion" });
    expect(await metricValue("rejected_total", { reason: "malformed_frame" })).toBe(before + 1);
  });

  it("closes the session on a frame over the negotiated max frame", async () => {
    const client = await openSession({ maxFrame: 8_192 });
    expect(client.session.limits.max_frame).toBe(8_192);
    // the session's max frame holds once it is open: a frame that overtakes CONFIRM is early data
    await client.confirmed;
    const big = encodeFrame({ ver: 1, flags: FLAGS.REQ, code: 0, appProtoId: APP.OBJECT, tenantId: 0n, corrId: 9n, cap: new Uint8Array(0), payload: new Uint8Array(10_000) });
    client.sendRaw(big);
    expect(await client.closed).toEqual({ code: CLOSE.TOO_BIG, reason: "FrameTooLarge" });
  });

  it("closes on a header that claims more than 1 MiB, and on text messages", async () => {
    const client = await openSession();
    const header = new Uint8Array(38);
    const view = new DataView(header.buffer);
    view.setUint32(0, 2_000_000);
    view.setUint16(4, 1);
    view.setUint16(6, FLAGS.REQ);
    client.sendRaw(header);
    expect(await client.closed).toEqual({ code: CLOSE.TOO_BIG, reason: "FrameTooLarge" });

    const socket = await openRawSocket();
    const log = new FrameLog(socket);
    socket.send("hello");
    await log.until(() => log.closed !== undefined);
    expect(log.closed).toEqual({ code: CLOSE.UNSUPPORTED, reason: "binary_only" });
  });

  it("answers over-rate frames with 429 peer_rate and keeps the session", async () => {
    const client = await openSession({}, { OVERLAY_PEER_RPS: "5" });
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => client.fetch(`b3:${"0".repeat(64)}`)));
    const reasons = results.map((r) => (r.status === "rejected" ? (r.reason as OverlayError).reason : "ok"));
    expect(reasons.filter((r) => r === "peer_rate").length).toBeGreaterThanOrEqual(6);
    expect(reasons.filter((r) => r === "not_found").length).toBeGreaterThanOrEqual(1);
    await sleep(1_100);
    await expect(client.fetch(`b3:${"0".repeat(64)}`)).rejects.toMatchObject({ status: 404 });
    client.close();
  });
});
