/**
 * Capabilities on overlay sessions: the token travels in HELLO, is judged before any key
 * exchange work, and each fetch, publish and subscribe is judged against it.
 */
import { describe, expect, it } from "vitest";
import { OverlayError } from "../sdk";
import { CLOSE, parseJsonBytes } from "../shared/overlay/protocol";
import { call, envelopeOf, putRaw, randomBytes, tokenFor } from "./helpers";
import { FrameLog, metricValue, openRawSocket, openSession, sleep } from "./overlay-helpers";

const now = () => Math.floor(Date.now() / 1000);

/** Connect with `token` and return the refusal (status, reason) and how the socket closed. */
async function refusedHello(token: string | undefined) {
  const socket = await openRawSocket();
  const log = new FrameLog(socket);
  const { connectOverlay } = await import("../sdk");
  const error = await connectOverlay({ socket: socket as never, pq: "off", token }).catch((e) => e);
  await log.until(() => log.closed !== undefined);
  return { error, closed: log.closed!, frame: parseJsonBytes(log.frames[0]!.payload) as { reason: string } };
}

describe("overlay sessions and capability tokens", () => {
  it("refuses a HELLO without a token, with a bad or expired one, or one that allows no overlay op", async () => {
    const cases = [
      [undefined, 401, "missing_token"],
      ["garbage-token", 401, "bad_token"],
      [tokenFor({ expires: now() - 1 }), 401, "expired"],
      [tokenFor({ ops: ["put", "edge.put"] }), 403, "caveat"],
    ] as const;
    for (const [token, status, reason] of cases) {
      const before = await metricValue("auth_denied_total", { reason });
      const failures = await metricValue("overlay_handshake_failures_total", { reason });
      const { error, closed, frame } = await refusedHello(token);
      expect(error).toBeInstanceOf(OverlayError);
      expect(error).toMatchObject({ status, reason });
      expect(frame.reason).toBe(reason);
      expect(closed).toEqual({ code: CLOSE.POLICY, reason });
      expect(await metricValue("auth_denied_total", { reason })).toBe(before + 1);
      expect(await metricValue("overlay_handshake_failures_total", { reason })).toBe(failures + 1);
    }
    // refusals are the client's doing: readiness is untouched
    expect((await call("/readyz")).status).toBe(200);
  });

  it("judges each request: a subscribe-only token for news.* subscribes there and nowhere else", async () => {
    const bytes = randomBytes(2_000);
    const { address } = await (await putRaw(bytes)).json<{ address: string }>();
    const client = await openSession({ token: tokenFor({ ops: ["overlay.subscribe"], topic: "news.*" }) });
    await client.subscribe("news.today", () => {});
    await expect(client.subscribe("sports", () => {})).rejects.toMatchObject({ status: 403, reason: "caveat" });
    await expect(client.fetch(address)).rejects.toMatchObject({ status: 403, reason: "caveat" });
    await expect(client.publish("news.today", new TextEncoder().encode("x"))).rejects.toMatchObject({ status: 403, reason: "caveat" });
    client.close();

    const fetcher = await openSession({ token: tokenFor({ ops: ["overlay.fetch"] }) });
    expect(await fetcher.fetch(address)).toEqual(bytes);
    await expect(fetcher.subscribe("news.today", () => {})).rejects.toMatchObject({ status: 403, reason: "caveat" });
    fetcher.close();
  });

  it("publish: topic and max_bytes caveats hold; an allowed publish reaches a subscriber", async () => {
    const publisher = await openSession({ token: tokenFor({ ops: ["overlay.publish"], topic: "alerts", maxBytes: 16 }) });
    const subscriber = await openSession({ token: tokenFor({ ops: ["overlay.subscribe"] }) });
    const got: string[] = [];
    await subscriber.subscribe("alerts", (event) => got.push(new TextDecoder().decode(event.data)));
    expect(await publisher.publish("alerts", new TextEncoder().encode("sixteen bytes..!"))).toMatchObject({ duplicate: false, subscribers: 1 });
    await expect(publisher.publish("alerts", new TextEncoder().encode("seventeen bytes!!"))).rejects.toMatchObject({ status: 403, reason: "caveat" });
    await expect(publisher.publish("other", new TextEncoder().encode("x"))).rejects.toMatchObject({ status: 403, reason: "caveat" });
    for (let i = 0; i < 50 && got.length === 0; i++) await sleep(20);
    expect(got).toEqual(["sixteen bytes..!"]);
    publisher.close();
    subscriber.close();
  });

  it("a token that expires during the session: later requests are 401 expired", async () => {
    const bytes = randomBytes(100);
    const { address } = await (await putRaw(bytes)).json<{ address: string }>();
    const client = await openSession({ token: tokenFor({ ops: ["overlay.fetch"], expires: now() + 2 }) });
    expect(await client.fetch(address)).toEqual(bytes);
    await sleep(2_100);
    await expect(client.fetch(address)).rejects.toMatchObject({ status: 401, reason: "expired" });
    client.close();
  });

  it("without a root key the upgrade itself is refused: 503 NOT_CONFIGURED, no session opened", async () => {
    const response = await call("/overlay", { headers: { Upgrade: "websocket" } }, { CAP_ROOT_KEY: "" });
    expect(response.status).toBe(503);
    expect(await envelopeOf(response)).toMatchObject({ code: "NOT_CONFIGURED", reason: "not_configured" });
  });
});
