/**
 * The overlay's admin surface inside workerd: frame and session metrics move with real traffic,
 * /readyz flips when new sessions would be shed, and the standalone overlay worker serves
 * sessions under its own label.
 */
import { describe, expect, it } from "vitest";
import { connectOverlay } from "../sdk";
import type { WebSocketLike } from "../sdk/socket";
import overlay from "../workers/overlay/index";
import { blake3 } from "../shared/blake3";
import { call, callWorker, putRaw, randomBytes, TOKEN, withoutIsolate } from "./helpers";
import { openSession, sleep } from "./overlay-helpers";

async function scrape(target: (path: string) => Promise<Response> = (p) => call(p)): Promise<string> {
  return withoutIsolate(await (await target("/metrics")).text());
}

function value(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe("overlay metrics", () => {
  it("counts frames by direction and kind, their sizes, and open sessions", async () => {
    const before = await scrape();
    const client = await openSession();
    const address = ((await (await putRaw(randomBytes(70_000))).json()) as { address: string }).address;
    await client.fetch(address);
    const during = await scrape();
    expect(value(during, "overlay_sessions_active")).toBe(value(before, "overlay_sessions_active") + 1);
    // HELLO and CONFIRM in, READY and "confirmed" out, then the fetch: 1 request, START + 2 chunks
    expect(value(during, 'overlay_frames_total{dir="rx",kind="control_req"}')).toBe(value(before, 'overlay_frames_total{dir="rx",kind="control_req"}') + 2);
    expect(value(during, 'overlay_frames_total{dir="tx",kind="control_resp"}')).toBe(value(before, 'overlay_frames_total{dir="tx",kind="control_resp"}') + 2);
    expect(value(during, 'overlay_frames_total{dir="rx",kind="object_req"}')).toBe(value(before, 'overlay_frames_total{dir="rx",kind="object_req"}') + 1);
    expect(value(during, 'overlay_frames_total{dir="tx",kind="object_resp"}')).toBe(value(before, 'overlay_frames_total{dir="tx",kind="object_resp"}') + 3);
    // frame sizes: the 64 KiB chunk (65,574 B with its header) lands in the 262,144 bucket, not below
    const big = (t: string) => value(t, 'overlay_frame_size_bytes_bucket{dir="tx",le="262144"}') - value(t, 'overlay_frame_size_bytes_bucket{dir="tx",le="65536"}');
    expect(big(during) - big(before)).toBe(1);
    expect(during).toMatch(/^overlay_handshake_seconds_bucket\{pq="hybrid",le="0\.1"\} \d+$/m);
    client.close();
    await client.closed;
    await sleep(50);
    expect(value(await scrape(), "overlay_sessions_active")).toBe(value(before, "overlay_sessions_active"));
  });
});

describe("overlay readiness", () => {
  it("reports overlay_sessions when open sessions reach READY_QUEUE_RATIO of OVERLAY_MAX_SESSIONS, and sheds upgrades at the cap", async () => {
    const open = value(await scrape(), "overlay_sessions_active");
    const max = String(open + 2);
    const ready = await call("/readyz", {}, { OVERLAY_MAX_SESSIONS: max, READY_QUEUE_RATIO: "1" });
    expect(ready.status).toBe(200);
    const a = await openSession({}, { OVERLAY_MAX_SESSIONS: max });
    const b = await openSession({}, { OVERLAY_MAX_SESSIONS: max });
    const full = await call("/readyz", {}, { OVERLAY_MAX_SESSIONS: max, READY_QUEUE_RATIO: "1" });
    expect(full.status).toBe(503);
    expect(await full.json()).toMatchObject({ ready: false, degraded: true, missing: ["overlay_sessions"] });
    const shed = await call("/overlay", { headers: { Upgrade: "websocket" } }, { OVERLAY_MAX_SESSIONS: max });
    expect(shed.status).toBe(503);
    expect(await shed.json()).toMatchObject({ reason: "BACKPRESSURE" });
    a.close();
    b.close();
    await Promise.all([a.closed, b.closed]);
    await sleep(50);
    expect((await call("/readyz", {}, { OVERLAY_MAX_SESSIONS: max, READY_QUEUE_RATIO: "1" })).status).toBe(200);
  });
});

describe("sessions per client", () => {
  const upgrade = (ip: string, cap: string) => call("/overlay", { headers: { Upgrade: "websocket", "CF-Connecting-IP": ip } }, { OVERLAY_MAX_SESSIONS_PER_CLIENT: cap });
  const session = async (response: Response) => {
    expect(response.status).toBe(101);
    response.webSocket!.accept();
    return connectOverlay({ socket: response.webSocket as unknown as WebSocketLike, blake3Hex: (b) => blake3().hashHex(b), token: TOKEN });
  };

  it("refuses a client's upgrade past OVERLAY_MAX_SESSIONS_PER_CLIENT with 429 client_sessions, counted; other clients are unaffected; a close frees a slot", async () => {
    const rejected = value(await scrape(), 'rejected_total{reason="client_sessions"}');
    const a = await session(await upgrade("203.0.113.7", "2"));
    const b = await session(await upgrade("203.0.113.7", "2"));
    const refused = await upgrade("203.0.113.7", "2");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(await refused.json()).toMatchObject({ code: "TOO_MANY_REQUESTS", reason: "client_sessions", retryable: true });
    expect(value(await scrape(), 'rejected_total{reason="client_sessions"}')).toBe(rejected + 1);
    const other = await session(await upgrade("198.51.100.9", "2"));
    a.close();
    await a.closed;
    await sleep(50);
    const again = await session(await upgrade("203.0.113.7", "2"));
    for (const client of [b, other, again]) client.close();
  });

  it("holds the per-client cap under concurrent upgrades (the slot is taken before the session opens)", async () => {
    const answers = await Promise.all(Array.from({ length: 12 }, () => upgrade("192.0.2.44", "3")));
    const opened = answers.filter((r) => r.status === 101);
    expect(opened.length).toBe(3);
    expect(answers.filter((r) => r.status === 429).length).toBe(9);
    for (const r of opened) r.webSocket!.accept();
    for (const r of opened) r.webSocket!.close(1000, "done");
  });
});

describe("the standalone overlay worker", () => {
  it("opens sessions and fetches from R2 under the overlay service label, without the interop routes", async () => {
    const bytes = randomBytes(1_000);
    const address = ((await (await putRaw(bytes, {}, { AMNESIA: "false" })).json()) as { address: string }).address;
    const callOverlay = (path: string, init: RequestInit = {}) => callWorker(overlay, path, init, { AMNESIA: "false" });
    const response = await callOverlay("/overlay", { headers: { Upgrade: "websocket" } });
    expect(response.status).toBe(101);
    response.webSocket!.accept();
    const client = await connectOverlay({ socket: response.webSocket as unknown as WebSocketLike, blake3Hex: (b) => blake3().hashHex(b), token: TOKEN });
    expect((await client.fetch(address)).length).toBe(1_000);
    client.close();
    expect((await callOverlay("/put", { method: "POST", body: "x" })).status).toBe(404);
    expect((await (await callOverlay("/version")).json<{ features: string[] }>()).features).toEqual(["overlay", "pq:hybrid"]);
    expect(await scrape(callOverlay)).toMatch(/^http_requests_total\{service="overlay",route="\/overlay",method="GET",status="101"\} \d+$/m);
  });
});
