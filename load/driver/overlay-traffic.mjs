// Overlay load: the scenario's mix as operations over real WebSocket sessions, through the SDK
// (bundled on the fly) and the `ws` client. Handshakes open and close a session each; fetches
// share a few open sessions; gossip publishes from a few sessions to a topic with
// `subscribers` subscribed sessions, and every delivery's latency (publish → subscriber) is
// recorded, with missing or duplicated deliveries counted as failures.
import { createBLAKE3 } from "hash-wasm";
import WebSocket from "ws";
import { importTs } from "../../scripts/import-ts.mjs";
import { pick, textBytes, weightedPicker } from "./traffic.mjs";
import { HARNESS_TOKEN, authHeaders } from "./targets.mjs";

const now = () => performance.timeOrigin + performance.now();

export async function overlayTraffic(scenario, baseUrl) {
  const sdk = await importTs("sdk/index.ts");
  const url = `${baseUrl.replace(/^http/, "ws")}/overlay`;
  // WASM BLAKE3 for the client's verification: the SDK's pure-JS default would make the
  // generator, not the service, the bottleneck of 1 MiB fetches
  const hasher = await createBLAKE3();
  const blake3Hex = (bytes) => hasher.init().update(bytes).digest("hex");
  // no permessage-deflate: it tripled the service's CPU and put 40-80 ms tails on everything
  // (docs/PERFORMANCE.md); run with OVERLAY_DEFLATE=1 to measure a client that keeps it
  const socketOptions = { perMessageDeflate: process.env.OVERLAY_DEFLATE === "1" };
  // the SDK's Node default: HELLO in the upgrade's OAP-Hello header, one round trip (docs/OAP1.md
  // §2); OVERLAY_HELLO_FRAME=1 measures a client that sends it as a frame (browsers: two)
  const helloInUpgrade = process.env.OVERLAY_HELLO_FRAME !== "1";
  const connect = (pq = "hybrid") => sdk.connectOverlay({ url, WebSocket, socketOptions, pq, blake3Hex, requestTimeoutMs: 30_000, token: HARNESS_TOKEN, helloInUpgrade });
  const open = [];
  const gossip = [];
  let countersBefore = { delivered: 0, dropped: {} };
  const entries = [];

  for (const item of scenario.mix) {
    if (item.op === "handshake") {
      entries.push({
        weight: item.weight,
        make: () => ({
          route: item.route,
          handshake: item.pq,
          run: async () => {
            const session = await connect(item.pq);
            if (session.session.pq !== item.pq) throw Object.assign(new Error("negotiated another key exchange"), { reason: "wrong_pq" });
            session.close();
          },
        }),
      });
    } else if (item.op === "fetch") {
      const response = await fetch(`${baseUrl}/put`, { method: "POST", body: textBytes(item.bytes), headers: authHeaders({ "content-type": "application/octet-stream" }) });
      if (!response.ok) throw new Error(`seeding the ${item.bytes}-byte fetch object failed: ${response.status} ${await response.text()}`);
      const { address } = await response.json();
      const sessions = await Promise.all(Array.from({ length: item.sessions ?? 2 }, () => connect()));
      open.push(...sessions);
      entries.push({ weight: item.weight, make: () => ({ route: item.route, run: () => pick(sessions).fetch(address) }) });
    } else if (item.op === "gossip") {
      const lane = await gossipLane(item, connect);
      open.push(...lane.sessions);
      gossip.push(lane);
      entries.push({ weight: item.weight, make: () => ({ route: item.route, run: () => lane.publish() }) });
    } else {
      throw new Error(`overlay scenario item ${item.route} has no op (handshake, fetch, gossip)`);
    }
  }

  return {
    next: weightedPicker(entries),
    /** A new session through the same URL (the round-trip probe times handshakes with it). */
    connect,
    /** The engine's client: an operation's outcome as a status, or an error named by its reason. */
    client: { send: (op) => op.run().then(() => ({ status: 200 }), (error) => ({ error: error.reason ?? error.name ?? "error" })) },
    /** From now on, publishes are measured (warm-up traffic before this is not). */
    async begin() {
      countersBefore = await gossipCounters(baseUrl);
      for (const lane of gossip) lane.begin();
    },
    /**
     * Record deliveries (and what never arrived) into `record`, once every lane has drained; returns
     * the gossip summary: what the client saw, and what the service counted meanwhile.
     */
    async finish(record) {
      const lanes = [];
      for (const lane of gossip) lanes.push(await lane.finish(record));
      if (!lanes.length) return null;
      const after = await gossipCounters(baseUrl);
      const sum = (key) => lanes.reduce((n, lane) => n + lane[key], 0);
      const server = { delivered: after.delivered - countersBefore.delivered, dropped: {} };
      for (const [reason, n] of Object.entries(after.dropped)) {
        const delta = n - (countersBefore.dropped[reason] ?? 0);
        if (delta) server.dropped[reason] = delta;
      }
      return { lanes, expected: sum("expected"), delivered: sum("delivered"), missing: sum("missing"), duplicated: sum("duplicated"), told_missed: sum("told_missed"), evictions: sum("evictions"), drain_ms: Math.max(...lanes.map((l) => l.drain_ms)), server };
    },
    close() {
      for (const session of open) session.close();
    },
  };
}

/** The service's gossip counters from /metrics: deliveries written, and drops by reason. */
async function gossipCounters(baseUrl) {
  const text = await (await fetch(`${baseUrl}/metrics`, { headers: authHeaders() })).text();
  const dropped = {};
  for (const m of text.matchAll(/^gossip_dropped_total\{reason="([^"]+)",isolate="[0-9a-f]+"\} (\d+)$/gm)) dropped[m[1]] = Number(m[2]);
  const delivered = Number(/^gossip_delivered_total\{isolate="[0-9a-f]+"\} (\d+)$/m.exec(text)?.[1] ?? 0);
  return { delivered, dropped };
}

/** One topic: publishers, subscribers, and the bookkeeping of who got what when. */
async function gossipLane(item, connect) {
  const topic = `load.${Math.random().toString(36).slice(2, 10)}`;
  const deliveryRoute = `${item.route} delivery`;
  const subscribers = await Promise.all(Array.from({ length: item.subscribers ?? 3 }, () => connect()));
  const publishers = await Promise.all(Array.from({ length: item.publishers ?? 2 }, () => connect()));
  let measuring = false;
  let started = 0;
  let counter = 0;
  const sent = new Map(); // id → sent at (measured publishes only)
  const received = new Map(); // id → [latency ms, …]
  let duplicates = 0;
  // losses the service told the subscribers of: skipped deliveries (counted in the next event's
  // `missed`, so one at the very end goes untold) and evictions from the topic
  let toldMissed = 0;
  let evictions = 0;
  const perSubscriberSeen = subscribers.map(() => new Set());
  const handlerOf = (i) => (event) => {
    if (measuring && event.missed) toldMissed += event.missed;
    if (!event.id.startsWith("m")) return; // warm-up traffic
    if (perSubscriberSeen[i].has(event.id)) return void duplicates++;
    perSubscriberSeen[i].add(event.id);
    const at = new DataView(event.data.buffer, event.data.byteOffset, 8).getFloat64(0);
    let list = received.get(event.id);
    if (!list) received.set(event.id, (list = []));
    list.push({ ms: now() - at, second: Math.floor((now() - started) / 1000) });
  };
  // an evicted subscriber (skipped for too long under overload) subscribes again, as a client
  // would: the deliveries it missed stay missing and counted, but a long soak is not failed for
  // the rest of its run by one stall
  subscribers.forEach((session, i) => {
    session.onEvicted = () => {
      evictions++;
      session.subscribe(topic, handlerOf(i)).catch(() => {});
    };
  });
  await Promise.all(subscribers.map((session, i) => session.subscribe(topic, handlerOf(i))));

  return {
    sessions: [...subscribers, ...publishers],
    begin() {
      measuring = true;
      started = now();
    },
    async publish() {
      const id = `${measuring ? "m" : "w"}${counter++}`;
      const payload = new Uint8Array(textBytes(item.bytes));
      new DataView(payload.buffer, payload.byteOffset, 8).setFloat64(0, now());
      if (measuring) sent.set(id, now());
      let result;
      try {
        result = await pick(publishers).publish(topic, payload, { id });
      } catch (error) {
        sent.delete(id); // refused (e.g. 429 gossip_backpressure): nothing was promised to deliver
        throw error;
      }
      if (result.subscribers !== subscribers.length) throw Object.assign(new Error(`published to ${result.subscribers} subscribers`), { reason: "subscribers" });
    },
    async finish(record) {
      const expected = sent.size * subscribers.length;
      const drainStarted = now();
      const deadline = drainStarted + 3_000;
      const count = () => [...received.values()].reduce((n, l) => n + l.length, 0);
      while (count() < expected && now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const drainMs = Math.round(now() - drainStarted);
      for (const list of received.values()) for (const { ms, second } of list) record(deliveryRoute, { status: 200 }, ms, second);
      const lastSecond = Math.floor((now() - started) / 1000);
      for (const [id] of sent) {
        const missing = subscribers.length - (received.get(id)?.length ?? 0);
        for (let i = 0; i < missing; i++) record(deliveryRoute, { error: "missing" }, 0, lastSecond);
      }
      for (let i = 0; i < duplicates; i++) record(deliveryRoute, { error: "duplicate" }, 0, lastSecond);
      const delivered = count();
      return { topic, publishes: sent.size, subscribers: subscribers.length, expected, delivered, missing: expected - delivered, duplicated: duplicates, told_missed: toldMissed, evictions, drain_ms: drainMs };
    },
  };
}
