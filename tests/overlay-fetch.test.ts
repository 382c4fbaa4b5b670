/**
 * Object fetch over an overlay session inside workerd: objects put over HTTP come back over the
 * session in ≤ 64 KiB frames (START … END), verified with BLAKE3 by the SDK; refusals are frame
 * codes; the send window holds frames until the client gives credit; the inflight cap answers 429.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { FLAGS } from "../shared/oap/codec";
import { acceptHello, confirmMatches } from "../shared/overlay/handshake";
import { objectFrames } from "../shared/overlay/object-frames";
import { APP, frame, jsonBytes } from "../shared/overlay/protocol";
import { decodeFrame } from "../shared/oap/codec";
import { r2Key } from "../shared/store/r2-object-store";
import { connectOverlay, IntegrityError, OverlayError } from "../sdk";
import type { WebSocketLike } from "../sdk/socket";
import { addressOf, call, putRaw, R2, randomBytes, flipStoredByte } from "./helpers";
import { hexAddress, openSession, openWatchedSession, sleep, type FrameLog } from "./overlay-helpers";

async function stored(bytes: Uint8Array, overrides: Record<string, string> = {}): Promise<string> {
  const response = await putRaw(bytes, {}, overrides);
  expect([200, 201]).toContain(response.status);
  return ((await response.json()) as { address: string }).address;
}

describe("fetch over a session", () => {
  it("returns 0 B, 64 KiB and 1 MiB objects byte for byte, in frames of at most 64 KiB", async () => {
    const client = await openSession();
    for (const size of [0, 65_536, 1_048_576]) {
      const bytes = randomBytes(size);
      const address = await stored(bytes);
      const got = await client.fetch(address);
      expect(got.length).toBe(size);
      expect(hexAddress(got)).toBe(address);
      expect(Buffer.from(got).equals(Buffer.from(bytes))).toBe(true);
    }
    client.close();
  });

  it("streams START, then chunks of ≤ 64 KiB, the last flagged END", async () => {
    const { client, log } = await openWatchedSession({ manualCredit: true });
    const bytes = randomBytes(200_000);
    const address = await stored(bytes);
    const pending = client.fetch(address);
    await log.until(() => log.frames.some((f) => f.flags & FLAGS.END));
    const stream = log.frames.filter((f) => f.appProtoId === APP.OBJECT);
    expect(stream[0]!.flags & FLAGS.START).toBeTruthy();
    expect(JSON.parse(new TextDecoder().decode(stream[0]!.payload))).toEqual({ addr: address, size: 200_000, chunk: 65_536 });
    expect(stream.slice(1).map((f) => f.payload.length)).toEqual([65_536, 65_536, 65_536, 3_392]);
    expect(stream.every((f) => f.flags & FLAGS.ACK_REQ && f.code === 200)).toBe(true);
    expect(stream.map((f) => !!(f.flags & FLAGS.END))).toEqual([false, false, false, false, true]);
    expect(hexAddress(await pending)).toBe(address);
    client.close();
  });

  it("answers bad addresses 400, unknown objects 404 and objects over OVERLAY_FETCH_MAX_BYTES 413, and the session goes on", async () => {
    const client = await openSession({}, { OVERLAY_FETCH_MAX_BYTES: "1000" });
    await expect(client.fetch("b3:XYZ")).rejects.toMatchObject({ status: 400, reason: "bad_address" });
    await expect(client.fetch(`b3:${"a".repeat(64)}`)).rejects.toMatchObject({ status: 404, reason: "not_found" });
    const big = await stored(randomBytes(1_001));
    await expect(client.fetch(big)).rejects.toMatchObject({ status: 413, reason: "too_large" });
    const small = await stored(randomBytes(1_000));
    expect((await client.fetch(small)).length).toBe(1_000);
    client.close();
  });

  it("refuses stored bytes that no longer match their address: 502 integrity frame", async () => {
    const bytes = randomBytes(4_096);
    const address = await stored(bytes, R2);
    const tampered = bytes.slice();
    tampered[100] = tampered[100]! ^ 0xff;
    await env.OBJECTS.put(r2Key(address.slice(3)), tampered);
    const client = await openSession({}, R2);
    const error = await client.fetch(address).catch((e) => e);
    expect(error).toBeInstanceOf(OverlayError);
    expect(error.status).toBe(502);
    client.close();
  });

  it("holds frames past the send window until the client gives credit", async () => {
    const { client, log } = await openWatchedSession({ manualCredit: true }, { OVERLAY_SEND_WINDOW: "16" });
    const bytes = randomBytes(1_048_576); // START + 16 chunks = 17 frames, window 16
    const address = await stored(bytes);
    const streamed = () => log.frames.filter((f) => f.appProtoId === APP.OBJECT).length;
    const pending = client.fetch(address);
    await log.until(() => streamed() >= 16);
    await sleep(300);
    expect(streamed()).toBe(16);
    client.credit(16);
    expect(hexAddress(await pending)).toBe(address);
    expect(streamed()).toBe(17);
    client.close();
  });

  it("answers requests past OVERLAY_PEER_INFLIGHT with 429 peer_inflight, and serves them all once credit flows", async () => {
    const client = await openSession({ manualCredit: true });
    const address = await stored(randomBytes(65_536)); // 2 frames each: 8 fetches fill the window
    const fetches = Array.from({ length: 40 }, () => client.fetch(address).then(() => "ok", (e: OverlayError) => e.reason));
    await sleep(300);
    for (let i = 0; i < 12; i++) {
      client.credit(16);
      await sleep(20);
    }
    const outcomes = await Promise.all(fetches);
    expect(outcomes.filter((o) => o === "peer_inflight").length).toBe(8);
    expect(outcomes.filter((o) => o === "ok").length).toBe(32);
    // with credit flowing the session takes new requests again
    client.credit(16);
    expect(await client.fetch(address).then(() => "ok", (e: OverlayError) => e.reason)).toBe("ok");
    client.close();
  });
});

for (const [mode, storeOverrides] of [["amnesia", {}], ["r2", R2]] as const) {
  describe(`fetch streamed from verified reads of the store (${mode})`, () => {
    const SIZE = 3 * 1024 * 1024 + 1_000; // over 1 MiB: read group by group, not whole
    const G = 16 * 1024;

    async function streamedPut(bytes: Uint8Array): Promise<string> {
      const address = addressOf(bytes);
      const response = await call(`/o/${address}`, { method: "PUT", body: bytes, headers: { "Content-Length": String(bytes.length) } }, storeOverrides);
      expect(response.status).toBe(201);
      return address;
    }

    const flip = (address: string, at: number) => flipStoredByte(mode, address.slice(3), at);

    const objectFramesOf = (log: FrameLog, corrId: bigint) => log.frames.filter((f) => f.appProtoId === APP.OBJECT && f.corrId === corrId);

    it("sends a multi-MiB object byte for byte", async () => {
      const bytes = randomBytes(SIZE);
      const address = await streamedPut(bytes);
      const client = await openSession({}, storeOverrides);
      const got = await client.fetch(address);
      expect(Buffer.from(got).equals(Buffer.from(bytes))).toBe(true);
      client.close();
    });

    it("a group corrupted mid-object: the verified frames before it go out, then a 502 integrity frame, never END nor the bad bytes", async () => {
      const bytes = randomBytes(SIZE);
      const address = await streamedPut(bytes);
      const badAt = 2 * 1024 * 1024 + 5; // group 128, in the fourth 64 KiB frame... of the 33rd
      await flip(address, badAt);
      const { client, log } = await openWatchedSession({}, storeOverrides);
      const error = await client.fetch(address).catch((e) => e);
      expect(error).toBeInstanceOf(OverlayError);
      expect(error).toMatchObject({ status: 502, reason: "integrity" });
      const stream = objectFramesOf(log, log.frames.find((f) => f.appProtoId === APP.OBJECT)!.corrId);
      expect(stream[0]!.flags & FLAGS.START).toBeTruthy(); // the stream had started: no whole read first
      const data = stream.filter((f) => f.code === 200 && !(f.flags & FLAGS.START));
      const sent = Buffer.concat(data.map((f) => f.payload));
      expect(sent.length).toBeGreaterThan(0);
      expect(sent.length).toBeLessThanOrEqual(Math.floor(badAt / G) * G); // nothing of the bad group
      expect(sent.equals(Buffer.from(bytes.subarray(0, sent.length)))).toBe(true);
      expect(stream.some((f) => f.code === 200 && f.flags & FLAGS.END)).toBe(false);
      expect(stream[stream.length - 1]!.code).toBe(502);
      // the session goes on
      const other = randomBytes(100_000);
      expect(Buffer.from(await client.fetch(await streamedPut(other))).equals(Buffer.from(other))).toBe(true);
      client.close();
    });

    it("a corrupted first group is refused before anything is sent: 502, no START", async () => {
      const bytes = randomBytes(SIZE);
      const address = await streamedPut(bytes);
      await flip(address, 10);
      const { client, log } = await openWatchedSession({}, storeOverrides);
      await expect(client.fetch(address)).rejects.toMatchObject({ status: 502, reason: "integrity" });
      const stream = log.frames.filter((f) => f.appProtoId === APP.OBJECT);
      expect(stream.length).toBe(1);
      expect(stream[0]!.code).toBe(502);
      client.close();
    });

    it("keeps the fetch budget: objects waiting on credit count whole until their last frame is out", async () => {
      // budget: 2 × OVERLAY_FETCH_MAX_BYTES of objects in flight per session
      const knobs = { ...storeOverrides, OVERLAY_FETCH_MAX_BYTES: String(SIZE) };
      const address = await streamedPut(randomBytes(SIZE));
      const client = await openSession({ manualCredit: true }, knobs);
      const first = client.fetch(address);
      const second = client.fetch(address);
      await sleep(300);
      await expect(client.fetch(address)).rejects.toMatchObject({ status: 429, reason: "fetch_budget" });
      for (let i = 0; i < 200; i++) {
        client.credit(16);
        await sleep(5);
      }
      expect(hexAddress(await first)).toBe(address);
      expect(hexAddress(await second)).toBe(address);
      client.credit(16);
      const third = client.fetch(address);
      for (let i = 0; i < 100; i++) {
        client.credit(16);
        await sleep(5);
      }
      expect(hexAddress(await third)).toBe(address); // freed again once they were out
      client.close();
    });
  });
}

describe("the SDK verifies what it fetches", () => {
  it("rejects bytes that do not hash to the address asked for (a lying server)", async () => {
    // A server end in this test: real handshake, then the wrong bytes for the address.
    const { 0: clientEnd, 1: serverEnd } = new WebSocketPair();
    serverEnd.accept();
    clientEnd.accept();
    const asked = randomBytes(1_000);
    const address = hexAddress(asked);
    let pending: Awaited<ReturnType<typeof acceptHello>>["pending"] | undefined;
    serverEnd.addEventListener("message", async (event) => {
      const decoded = decodeFrame(new Uint8Array(event.data as ArrayBuffer));
      if ("needMore" in decoded) return;
      const f = decoded.frame;
      if (f.appProtoId === APP.CONTROL && !pending) {
        const accepted = await acceptHello(f.payload, { mode: "hybrid", sessionId: "fake", limits: { max_frame: 1_048_576, chunk: 65_536, inflight: 32, rps: 200, send_window: 16, idle_timeout_ms: 60_000 } });
        pending = accepted.pending;
        serverEnd.send(frame({ flags: FLAGS.RESP, code: 200, appProtoId: APP.CONTROL, corrId: f.corrId, payload: accepted.ready }));
      } else if (f.appProtoId === APP.CONTROL && f.flags & FLAGS.REQ) {
        expect(await confirmMatches(f.payload, pending!)).toBe(true);
        serverEnd.send(frame({ flags: FLAGS.RESP, code: 200, appProtoId: APP.CONTROL, corrId: f.corrId, payload: jsonBytes({ op: "confirmed" }) }));
      } else if (f.appProtoId === APP.OBJECT) {
        const wrong = asked.slice();
        wrong[0] = wrong[0]! ^ 1;
        for (const encode of objectFrames(address, wrong, f.corrId, 65_536)) serverEnd.send(encode());
      }
    });
    const client = await connectOverlay({ socket: clientEnd as unknown as WebSocketLike });
    await expect(client.fetch(address)).rejects.toBeInstanceOf(IntegrityError);
    client.close();
  });
});
