/**
 * `AMNESIA=true` leaves nothing on disk: a real local runtime (Miniflare, the way the load
 * harness serves the bundle) with a persist directory takes objects, a webhook, mailbox traffic
 * and overlay sessions with gossip, and afterwards the directory holds none of it — no marker
 * bytes in any file, no table in any object's database, no R2 blob — and neither do the logs.
 *
 * workerd creates an empty database file for every Durable Object it instantiates, whether or not
 * the object touches storage (measured: an untouched RateLimiter gets one), so the check is that
 * those files stay empty (no table at all), not that they are absent.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectOverlay, signWebhook, type GossipEvent, type OverlayClient } from "../../sdk";
// @ts-expect-error: plain JS module of the load harness
import { HARNESS_TOKEN, authHeaders, bundleWorker, micronodeOptions, serve } from "../../load/driver/targets.mjs";

const state = mkdtempSync(join(tmpdir(), "ron-amnesia-"));
const WEBHOOK_SECRET = "amnesia-test-secret";
/** Unique strings carried by every kind of payload; none may reach the state directory or the logs. */
const run = crypto.randomUUID().slice(0, 8);
const MARK = {
  object: `object-marker-${run}`,
  webhook: `webhook-marker-${run}`,
  mailbox: `mailbox-marker-${run}`,
  gossip: `gossip-marker-${run}`,
  fetched: `fetched-marker-${run}`,
};
const TOPIC = `amnesia.${run}`;

let target: { url: string; mf: { dispose(): Promise<void> } };
let logs = "";
const capture = (stream: Readable) => stream.on("data", (chunk: Buffer) => (logs += chunk.toString("utf8")));

beforeAll(async () => {
  const bundle = bundleWorker({ outDir: join(tmpdir(), `ron-amnesia-build-${process.pid}`) });
  const options = { ...micronodeOptions(bundle, { AMNESIA: "true", GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET }), handleRuntimeStdio: (stdout: Readable, stderr: Readable) => (capture(stdout), capture(stderr)) };
  target = await serve(options, { persistDir: state });
});
afterAll(() => rmSync(state, { recursive: true, force: true }));

/** Request headers for every call of this test: the harness's capability token. */
const headersFor = (extra: Record<string, string> = {}): Record<string, string> => authHeaders(extra);

async function send(method: string, path: string, body?: BodyInit, extra: Record<string, string> = {}): Promise<Response> {
  return fetch(`${target.url}${path}`, { method, body, headers: headersFor(extra) });
}

const json = { "content-type": "application/json" };

function openOverlay(): Promise<OverlayClient> {
  return connectOverlay({ url: `${target.url.replace(/^http/, "ws")}/overlay`, WebSocket, socketOptions: { perMessageDeflate: false }, token: HARNESS_TOKEN });
}

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Entries in an SQLite file's schema table (tables, indexes…): the cell count of page 1's b-tree. */
function schemaEntries(path: string): number {
  const bytes = readFileSync(path);
  if (bytes.length === 0) return 0;
  expect(bytes.subarray(0, 16).toString("latin1")).toBe("SQLite format 3\0");
  return bytes.readUInt16BE(100 + 3);
}

describe("amnesia mode on disk", () => {
  it("writes no objects, webhooks, mailbox messages, audit records, sessions or gossip to the state directory or the logs", async () => {
    // objects
    const put = await send("POST", "/put", MARK.object, { "content-type": "application/octet-stream" });
    expect(put.status).toBe(201);
    const { address } = (await put.json()) as { address: string };
    expect(await (await send("GET", `/o/${address}`)).text()).toBe(MARK.object);

    // a webhook: verified, stored in the mailbox topic webhooks.github, audited
    const hook = new TextEncoder().encode(JSON.stringify({ note: MARK.webhook }));
    const signed = await signWebhook("github", hook, WEBHOOK_SECRET);
    expect((await send("POST", "/webhooks/github", hook, { ...json, ...signed })).status).toBe(202);

    // the mailbox: send, receive (the webhook's message too), ack
    const payload_b64 = Buffer.from(MARK.mailbox).toString("base64");
    expect((await send("POST", "/mailbox/send", JSON.stringify({ topic: TOPIC, idem_key: run, payload_b64 }), json)).status).toBe(200);
    const received = (await (await send("POST", "/mailbox/recv", JSON.stringify({ topic: TOPIC }), json)).json()) as { messages: { msg_id: string; payload_b64: string }[] };
    expect(received.messages.map((m) => Buffer.from(m.payload_b64, "base64").toString())).toEqual([MARK.mailbox]);
    expect((await send("POST", `/mailbox/ack/${received.messages[0]!.msg_id}`, "{}", json)).status).toBe(200);
    const hooks = (await (await send("POST", "/mailbox/recv", JSON.stringify({ topic: "webhooks.github" }), json)).json()) as { messages: { payload_b64: string }[] };
    expect(Buffer.from(hooks.messages[0]!.payload_b64, "base64").toString()).toContain(MARK.webhook);

    // the audit log holds records (in memory)
    const audit = (await (await send("GET", "/audit/verify")).json()) as { ok: boolean; records: number };
    expect(audit).toMatchObject({ ok: true });
    expect(audit.records).toBeGreaterThan(0);

    // overlay: two sessions, a subscription, a publish delivered, a fetch
    const fetchedAddress = ((await (await send("POST", "/put", MARK.fetched, { "content-type": "application/octet-stream" })).json()) as { address: string }).address;
    const subscriber = await openOverlay();
    const publisher = await openOverlay();
    const delivered = new Promise<GossipEvent>((resolve) => void subscriber.subscribe(TOPIC, resolve));
    await new Promise((r) => setTimeout(r, 100));
    const published = await publisher.publish(TOPIC, new TextEncoder().encode(MARK.gossip));
    expect(published.subscribers).toBe(1);
    expect(new TextDecoder().decode((await delivered).data)).toBe(MARK.gossip);
    expect(new TextDecoder().decode(await publisher.fetch(fetchedAddress))).toBe(MARK.fetched);
    await subscriber.unsubscribe(TOPIC);
    subscriber.close();
    publisher.close();
    await Promise.all([subscriber.closed, publisher.closed]);
    await new Promise((r) => setTimeout(r, 200));

    await target.mf.dispose(); // let the runtime write out whatever it would

    const files = filesUnder(state);
    expect(files.length).toBeGreaterThan(0); // the runtime did use the directory
    for (const file of files) {
      const text = readFileSync(file).toString("latin1");
      for (const marker of Object.values(MARK)) expect(text.includes(marker), `${marker} in ${file}`).toBe(false);
      expect(text.includes(TOPIC), `topic name in ${file}`).toBe(false);
    }
    // every object's own database: no table at all (no alarm metadata, no key-value rows, no SQL tables)
    const objectDatabases = files.filter((f) => f.includes(`${join(state, "do")}/`) && f.endsWith(".sqlite") && !f.endsWith("metadata.sqlite"));
    expect(objectDatabases.some((f) => f.includes("OverlaySession"))).toBe(true);
    for (const file of objectDatabases) expect(schemaEntries(file), file).toBe(0);
    for (const file of files.filter((f) => /\.sqlite-wal$/.test(f) && !f.endsWith("metadata.sqlite-wal"))) expect(statSync(file).size, file).toBe(0);
    // nothing in R2: no blobs
    expect(files.filter((f) => f.includes(`${join(state, "r2")}/`) && f.includes("/blobs/"))).toEqual([]);
    // and the logs carry no payloads
    for (const marker of Object.values(MARK)) expect(logs.includes(marker), `${marker} in the logs`).toBe(false);
  });
});
