#!/usr/bin/env node
// npm run chaos -- [--only name,...] [--out file]: bounded failure drills against micronode served
// by Miniflare on 127.0.0.1 (loopback only, every loop bounded in time and count):
//   burst-10x     10x the configured rate for 3 s: admitted within rate·T + burst + one lease,
//                 429s carry RATE_LIMIT + Retry-After, admitted p95 within the SLO, recovery ≤ 5 s
//   twice-rate    2x the default 500 rps for 10 s: admitted within ±10% of rate (+ burst), no 5xx
//   slow-loris    50 clients trickling bodies: they hit the timeout, other clients are served
//   bombs         gzip and zstd bombs in parallel: all 413, memory stays bounded
//   big-headers   a 64 KiB header: 431 from the header cap, no 5xx, no hang
//   limiter-down  the limiter binding points at an object without lease(): reads admitted, writes 503
//   hostile       anonymous writes, forged and replayed webhooks, malformed HELLOs, a session flood
//                 from one client and a topic flood: all refused, /readyz stays 200, state within caps
import { createHmac, randomUUID } from "node:crypto";
import http from "node:http";
import WebSocket from "ws";
import { importTs } from "../scripts/import-ts.mjs";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { createClient, openLoop } from "./driver/engine.mjs";
import { machineInfo, gitCommit } from "./driver/load.mjs";
import { RouteStats, round } from "./driver/stats.mjs";
import { HARNESS_TOKEN, ROOT, authHeaders, bundleWorker, micronodeOptions, rssBytes, serve } from "./driver/targets.mjs";
import { textBytes } from "./driver/traffic.mjs";

const { values } = parseArgs({ options: { only: { type: "string" }, out: { type: "string" } } });
const bundle = bundleWorker({ outDir: join(ROOT, "load/.build/micronode") });
const MISSING = `/o/b3:${"e".repeat(64)}`; // an admitted GET answers 404
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function withTarget(vars, run, extra = {}) {
  const options = micronodeOptions(bundle, vars);
  Object.assign(options.durableObjects, extra.durableObjects ?? {});
  const target = await serve(options);
  try {
    return await run(target);
  } finally {
    await target.mf.dispose();
  }
}

/** Drive GETs of a missing object at `rate` for `durationS`; count admitted (404) and refused (429). */
async function flood(target, rate, durationS) {
  const client = createClient(target.url, 1024);
  const admittedStats = new RouteStats("admitted");
  const counts = {};
  const started = Date.now();
  await openLoop({
    client,
    rate,
    durationS,
    next: () => ({ route: "GET /o/:addr", method: "GET", path: MISSING, headers: {} }),
    record: (_route, result, ms, second) => {
      const key = result.status ?? result.error;
      counts[key] = (counts[key] ?? 0) + 1;
      if (result.status === 404) admittedStats.record(ms, 404, second);
    },
  });
  client.close();
  const seconds = (Date.now() - started) / 1000;
  return { counts, seconds, admitted: counts[404] ?? 0, admittedP95: admittedStats.summary(seconds).p95_ms };
}

const drills = {
  async "burst-10x"() {
    const rate = 100;
    const burst = 50;
    return withTarget({ RATE_LIMIT_RPS: String(rate), RATE_LIMIT_BURST: String(burst) }, async (target) => {
      const result = await flood(target, rate * 10, 3);
      // one more burst of 200 at once, to look at a refusal's headers
      const probes = await Promise.all(Array.from({ length: 200 }, () => fetch(`${target.url}${MISSING}`)));
      const refused = probes.find((r) => r.status === 429) ?? probes[0];
      const body = await refused.json();
      await Promise.all(probes.filter((r) => r !== refused).map((r) => r.arrayBuffer()));
      const stoppedAt = Date.now();
      let recoveryMs = null;
      while (Date.now() - stoppedAt < 10_000) {
        const r = await fetch(`${target.url}${MISSING}`);
        await r.arrayBuffer();
        if (r.status === 404) {
          recoveryMs = Date.now() - stoppedAt;
          break;
        }
        await sleep(50);
      }
      const lease = Math.max(1, Math.min(burst, Math.ceil((rate * 50) / 1000)));
      const bound = rate * result.seconds + burst + lease;
      const checks = [
        { what: "admitted ≤ rate·T + burst + one lease", actual: result.admitted, limit: round(bound, 1), ok: result.admitted <= bound },
        { what: "refusals are 429 RATE_LIMIT with Retry-After", actual: `${refused.status} ${body.reason} Retry-After=${refused.headers.get("retry-after")}`, limit: "429 RATE_LIMIT ≥1", ok: refused.status === 429 && body.reason === "RATE_LIMIT" && Number(refused.headers.get("retry-after")) >= 1 },
        { what: "admitted p95 within the GET SLO", actual: `${result.admittedP95} ms`, limit: "80 ms", ok: result.admittedP95 <= 80 },
        { what: "recovery after the burst", actual: recoveryMs === null ? "none" : `${recoveryMs} ms`, limit: "≤ 5000 ms", ok: recoveryMs !== null && recoveryMs <= 5000 },
        { what: "no 5xx", actual: JSON.stringify(result.counts), limit: "only 404/429", ok: Object.keys(result.counts).every((k) => k === "404" || k === "429") },
      ];
      return { config: { rate, burst, offered_rps: rate * 10, seconds: round(result.seconds) }, counts: result.counts, checks };
    });
  },

  async "twice-rate"() {
    const rate = 500;
    const burst = 250;
    return withTarget({}, async (target) => {
      const result = await flood(target, rate * 2, 10);
      const expected = rate + burst / result.seconds;
      const admittedRps = result.admitted / result.seconds;
      const checks = [
        { what: "admitted req/s within ±10% of rate (+ burst/T)", actual: round(admittedRps, 1), limit: `${round(expected * 0.9, 1)}–${round(expected * 1.1, 1)}`, ok: Math.abs(admittedRps - expected) <= expected * 0.1 },
        { what: "no 5xx", actual: JSON.stringify(result.counts), limit: "only 404/429", ok: Object.keys(result.counts).every((k) => k === "404" || k === "429") },
        { what: "admitted p95", actual: `${result.admittedP95} ms`, limit: "80 ms", ok: result.admittedP95 <= 80 },
      ];
      return { config: { rate, burst, offered_rps: rate * 2, seconds: round(result.seconds) }, counts: result.counts, checks };
    });
  },

  async "slow-loris"() {
    const timeoutMs = 2000;
    return withTarget({ REQUEST_TIMEOUT_MS: String(timeoutMs) }, async (target) => {
      const url = new URL(target.url);
      const loris = Array.from({ length: 50 }, () =>
        new Promise((resolve) => {
          const started = Date.now();
          const req = http.request({ host: url.hostname, port: url.port, method: "POST", path: "/put", headers: authHeaders({ "content-type": "application/octet-stream", "content-length": 1000 }) }, (res) => {
            let body = "";
            res.on("data", (c) => (body += c));
            res.on("end", () => {
              clearInterval(drip);
              req.destroy();
              resolve({ status: res.statusCode, ms: Date.now() - started, reason: (() => { try { return JSON.parse(body).reason; } catch { return null; } })() });
            });
          });
          req.on("error", () => {
            clearInterval(drip);
            resolve({ status: "error", ms: Date.now() - started });
          });
          let sent = 0;
          const drip = setInterval(() => {
            if (sent++ < 100 && Date.now() - started < 8000) req.write("x");
            else clearInterval(drip);
          }, 200);
        }),
      );
      const normal = await flood(target, 50, 4);
      const results = await Promise.all(loris);
      const timedOut = results.filter((r) => r.status === 503 && r.reason === "TIMEOUT");
      const slowest = Math.max(...results.map((r) => r.ms));
      const checks = [
        { what: "trickling clients hit the timeout (503 TIMEOUT)", actual: `${timedOut.length} of ${results.length}`, limit: "all", ok: timedOut.length === results.length },
        { what: "they are cut off near REQUEST_TIMEOUT_MS", actual: `${slowest} ms`, limit: `≤ ${timeoutMs + 1500} ms`, ok: slowest <= timeoutMs + 1500 },
        { what: "other clients are served meanwhile", actual: JSON.stringify(normal.counts), limit: "all 404", ok: Object.keys(normal.counts).every((k) => k === "404") },
        { what: "their p95", actual: `${normal.admittedP95} ms`, limit: "80 ms", ok: normal.admittedP95 <= 80 },
      ];
      return { config: { clients: 50, byte_every_ms: 200, REQUEST_TIMEOUT_MS: timeoutMs }, checks };
    });
  },

  async bombs() {
    return withTarget({}, async (target) => {
      const zstd = (await import("@bokuweb/zstd-wasm")).default;
      await zstd.init();
      const zeros = Buffer.alloc(64 * 1024 * 1024);
      const gz = gzipSync(zeros, { level: 9 });
      const zs = Buffer.from(zstd.compress(zeros, 19));
      const rssBefore = rssBytes(target.pid);
      const send = (body, encoding) =>
        fetch(`${target.url}/put`, { method: "POST", body, headers: authHeaders({ "content-type": "application/octet-stream", "content-encoding": encoding }) }).then(async (r) => ({ status: r.status, reason: (await r.json()).reason }));
      const started = Date.now();
      const results = await Promise.all([...Array.from({ length: 10 }, () => send(gz, "gzip")), ...Array.from({ length: 10 }, () => send(zs, "zstd"))]);
      const ms = Date.now() - started;
      const rssAfter = rssBytes(target.pid);
      const health = await fetch(`${target.url}/healthz`);
      const checks = [
        { what: "every bomb refused with 413", actual: JSON.stringify(results.reduce((m, r) => ((m[`${r.status} ${r.reason}`] = (m[`${r.status} ${r.reason}`] ?? 0) + 1), m), {})), limit: "20 × 413", ok: results.every((r) => r.status === 413) },
        { what: "workerd RSS growth", actual: `${round((rssAfter - rssBefore) / 1048576, 1)} MiB`, limit: "< 256 MiB (20 × 64 MiB bombs)", ok: rssAfter - rssBefore < 256 * 1048576 },
        { what: "still healthy", actual: health.status, limit: 200, ok: health.status === 200 },
      ];
      return { config: { gzip_wire_bytes: gz.length, zstd_wire_bytes: zs.length, decoded_each: zeros.length, parallel: 20, elapsed_ms: ms }, checks };
    });
  },

  async "big-headers"() {
    return withTarget({}, async (target) => {
      const url = new URL(target.url);
      const status = await new Promise((resolve) => {
        const req = http.request({ host: url.hostname, port: url.port, path: "/healthz", headers: { "x-junk": "a".repeat(64 * 1024) }, timeout: 5000 }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode));
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", (e) => resolve(`error ${e.code ?? e.message}`));
        req.end();
      });
      const after = await fetch(`${target.url}/healthz`);
      const checks = [
        { what: "64 KiB header refused with 431", actual: status, limit: 431, ok: status === 431 },
        { what: "still healthy", actual: after.status, limit: 200, ok: after.status === 200 },
      ];
      return { config: { header_bytes: 64 * 1024 }, checks };
    });
  },

  async "limiter-down"() {
    // a real Durable Object without lease(): every limiter call fails in the runtime
    return withTarget({}, async (target) => {
      const read = await fetch(`${target.url}${MISSING}`);
      const write = await fetch(`${target.url}/put`, { method: "POST", body: textBytes(100), headers: authHeaders({ "content-type": "application/octet-stream" }) });
      const writeBody = await write.json();
      const ready = await fetch(`${target.url}/readyz`);
      const readyBody = await ready.json();
      const checks = [
        { what: "reads admitted", actual: read.status, limit: 404, ok: read.status === 404 },
        { what: "writes refused 503 NOT_READY", actual: `${write.status} ${writeBody.reason}`, limit: "503 NOT_READY", ok: write.status === 503 && writeBody.reason === "NOT_READY" },
        { what: "/readyz reports the limiter", actual: `${ready.status} ${JSON.stringify(readyBody.missing)}`, limit: '503 ["limiter"]', ok: ready.status === 503 && readyBody.missing.includes("limiter") },
      ];
      return { config: { RATE_LIMITER: "bound to AmnesiaStore (no lease method)" }, checks };
    }, { durableObjects: { RATE_LIMITER: { className: "AmnesiaStore", useSQLite: true } } });
  },
  async hostile() {
    const secret = "chaos-github-secret";
    const caps = { MAILBOX_MAX_TOPICS: 64, MAILBOX_METRIC_TOPICS: 16, OVERLAY_MAX_SESSIONS_PER_CLIENT: 8, AUDIT_CAPACITY: 256 };
    const vars = { GITHUB_WEBHOOK_SECRET: secret, ...Object.fromEntries(Object.entries(caps).map(([k, v]) => [k, String(v)])) };
    return withTarget(vars, async (target) => {
      const oap = await importTs("shared/oap/codec.ts", "shared/overlay/protocol.ts");
      // /readyz polled every 100 ms for the whole drill: any non-200 is a failure
      const readiness = { polls: 0, bad: [] };
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          const r = await fetch(`${target.url}/readyz`).catch((e) => ({ status: e.message, json: async () => null }));
          readiness.polls++;
          if (r.status !== 200) readiness.bad.push({ status: r.status, body: await r.json().catch(() => null) });
          await sleep(100);
        }
      })();
      const rssBefore = rssBytes(target.pid);
      const tally = (results) => results.reduce((m, k) => ((m[k] = (m[k] ?? 0) + 1), m), {});
      const statusOf = async (response) => `${response.status} ${(await response.json().catch(() => ({}))).reason ?? ""}`.trim();

      // 1. anonymous and forged-token writes
      const anonymous = tally(await Promise.all(Array.from({ length: 200 }, (_, i) =>
        fetch(`${target.url}/put`, { method: "POST", body: textBytes(64), headers: { "content-type": "application/octet-stream", ...(i % 2 ? { authorization: `Bearer ${HARNESS_TOKEN.slice(0, -4)}AAAA` } : {}) } }).then(statusOf))));

      // 2. a real delivery, then forged ones and replays of the real one under new delivery ids
      const realBody = JSON.stringify({ zen: "the real one", at: Date.now() });
      const sign = (body) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
      const deliver = (body, signature) => fetch(`${target.url}/webhooks/github`, { method: "POST", body, headers: { "content-type": "application/json", "x-github-event": "push", "x-github-delivery": randomUUID(), "x-hub-signature-256": signature } });
      const real = await (await deliver(realBody, sign(realBody))).json();
      const forged = tally(await Promise.all(Array.from({ length: 500 }, (_, i) => deliver(JSON.stringify({ forged: i }), sign("something else")).then(statusOf))));
      const replays = await Promise.all(Array.from({ length: 100 }, () => deliver(realBody, sign(realBody)).then((r) => r.json())));
      const replayed = replays.filter((r) => r.duplicate === false).length;
      const tail = await (await fetch(`${target.url}/audit/tail?limit=256`, { headers: authHeaders() })).json();
      const realAudited = tail.records.some((r) => r.provider === "github" && r.decision === "allow");
      const deniedRecords = tail.records.filter((r) => r.decision !== "allow").length;

      // 3. malformed HELLOs, each on its own socket: refused with a protocol close code, never 1011
      const wsUrl = `${target.url.replace(/^http/, "ws")}/overlay`;
      const share = Buffer.alloc(32, 9).toString("base64");
      const hellos = [
        JSON.stringify({ op: "hello", versions: [1], features: { pq: "off" }, key_shares: { x25519: share.replace(/=$/, "") + "=" + "=" }, max_frame: 65536 }), // bad padding
        JSON.stringify({ op: "hello", versions: [1], features: { pq: "off" }, key_shares: { x25519: share.slice(4) }, max_frame: 65536 }), // short share
        JSON.stringify({ op: "hello", versions: [99], features: { pq: "off" }, key_shares: { x25519: share }, max_frame: 65536 }), // unknown version
        "{not json",
        JSON.stringify({ op: "hello", versions: [1], features: { pq: "hybrid" }, key_shares: { x25519: share, mlkem768: "AAAA" }, max_frame: 65536 }), // bad ML-KEM share
      ];
      const helloClose = (payload) => new Promise((resolve) => {
        const socket = new WebSocket(wsUrl, { perMessageDeflate: false, headers: { "cf-connecting-ip": `198.51.100.${Math.floor(Math.random() * 250)}` } });
        const timer = setTimeout(() => { socket.terminate(); resolve("no close in 5 s"); }, 5000);
        socket.on("open", () => socket.send(oap.frame({ flags: oap.FLAGS.REQ, appProtoId: oap.APP.CONTROL, corrId: 1n, payload: new TextEncoder().encode(payload) })));
        socket.on("close", (code) => { clearTimeout(timer); resolve(code); });
        socket.on("error", () => {});
      });
      const helloCodes = tally(await Promise.all(Array.from({ length: 100 }, (_, i) => helloClose(hellos[i % hellos.length]))));

      // 4. one client opening far more sessions than its cap (silent sockets, closed at the end)
      const opened = [];
      const upgrades = tally(await Promise.all(Array.from({ length: 40 }, () => new Promise((resolve) => {
        const socket = new WebSocket(wsUrl, { perMessageDeflate: false, headers: { "cf-connecting-ip": "203.0.113.7" } });
        socket.on("open", () => { opened.push(socket); resolve("101"); });
        socket.on("unexpected-response", (_req, res) => { res.resume(); resolve(String(res.statusCode)); });
        socket.on("error", () => resolve("error"));
      }))));
      for (const socket of opened) socket.terminate();

      // 5. a careless client spreading sends over 400 topics
      const topics = tally(await Promise.all(Array.from({ length: 400 }, (_, i) =>
        fetch(`${target.url}/mailbox/send`, { method: "POST", headers: authHeaders({ "content-type": "application/json" }), body: JSON.stringify({ topic: `flood.${i}`, idem_key: "k", payload_b64: "eA==" }) }).then(statusOf))));
      const metricsText = await (await fetch(`${target.url}/metrics`, { headers: authHeaders() })).text();
      const gauge = (name) => Number(new RegExp(`^${name}\\{isolate="[0-9a-f]+"\\} (\\d+)`, "m").exec(metricsText)?.[1] ?? NaN);
      const depthSeries = metricsText.split("\n").filter((l) => l.startsWith("queue_depth{")).length;

      await sleep(3500); // handshake timeouts of anything left half-open, then a last readiness look
      watching = false;
      await watcher;
      const rssAfter = rssBytes(target.pid);
      const refusedAs401 = (k) => k.startsWith("401 ") || k === "429 RATE_LIMIT";
      const checks = [
        { what: "anonymous and forged-token writes refused (401, or 429 past the rate limit)", actual: JSON.stringify(anonymous), limit: "none stored", ok: Object.keys(anonymous).every(refusedAs401) },
        { what: "forged webhooks refused (401, or 429 past the rate limit)", actual: JSON.stringify(forged), limit: "none enqueued", ok: Object.keys(forged).every(refusedAs401) },
        { what: "the real delivery accepted once; replays under new delivery ids are duplicates", actual: `accepted=${real.accepted} duplicate=${real.duplicate}, replays enqueued=${replayed}`, limit: "accepted, 0 replays enqueued", ok: real.accepted === true && real.duplicate === false && replayed === 0 },
        { what: "the real delivery is still in the audit log; denials only sampled", actual: `real=${realAudited}, denial records=${deniedRecords}`, limit: "real kept, ≤ 5 denial records", ok: realAudited && deniedRecords <= 5 },
        { what: "malformed HELLOs closed with a protocol code, never 1011", actual: JSON.stringify(helloCodes), limit: "100 × 1002/1008 (4400s)", ok: Object.keys(helloCodes).every((k) => /^(1002|1008|4\d\d\d)$/.test(k)) },
        { what: "one client's sessions capped", actual: JSON.stringify(upgrades), limit: `${caps.OVERLAY_MAX_SESSIONS_PER_CLIENT} × 101, the rest 429`, ok: upgrades["101"] === caps.OVERLAY_MAX_SESSIONS_PER_CLIENT && upgrades["429"] === 40 - caps.OVERLAY_MAX_SESSIONS_PER_CLIENT },
        { what: "topic flood: topics capped, the rest 429 topic_limit", actual: JSON.stringify(topics), limit: `${caps.MAILBOX_MAX_TOPICS} × 200`, ok: topics["200"] <= caps.MAILBOX_MAX_TOPICS && Object.keys(topics).every((k) => k === "200" || k === "429 topic_limit" || k === "429 RATE_LIMIT") },
        { what: "mailbox_topics within its cap", actual: gauge("mailbox_topics"), limit: `≤ ${caps.MAILBOX_MAX_TOPICS}`, ok: gauge("mailbox_topics") <= caps.MAILBOX_MAX_TOPICS },
        { what: "queue_depth series bounded", actual: depthSeries, limit: `≤ ${caps.MAILBOX_METRIC_TOPICS + 5}`, ok: depthSeries <= caps.MAILBOX_METRIC_TOPICS + 5 },
        { what: "/readyz stayed 200 throughout", actual: `${readiness.polls - readiness.bad.length}/${readiness.polls}${readiness.bad.length ? ` first bad: ${JSON.stringify(readiness.bad[0])}` : ""}`, limit: "all 200", ok: readiness.polls > 0 && readiness.bad.length === 0 },
        { what: "workerd RSS (the seeds' ceiling)", actual: `${round(rssAfter / 1048576, 1)} MiB (+${round((rssAfter - rssBefore) / 1048576, 1)} MiB during the drill)`, limit: "< 512 MiB", ok: rssAfter < 512 * 1048576 },
      ];
      return { config: caps, checks };
    });
  },
};

const selected = values.only ? values.only.split(",") : Object.keys(drills);
const report = { kind: "chaos", started_at: new Date().toISOString(), commit: gitCommit(), machine: machineInfo(), drills: {} };
let failed = 0;
for (const name of selected) {
  if (!drills[name]) throw new Error(`unknown drill ${name}; known: ${Object.keys(drills).join(", ")}`);
  const result = await drills[name]();
  report.drills[name] = result;
  console.log(`\n== ${name} ${JSON.stringify(result.config)}`);
  for (const c of result.checks) {
    if (!c.ok) failed++;
    console.log(`${c.ok ? "ok  " : "FAIL"} ${c.what}: ${c.actual} (limit ${c.limit})`);
  }
}
const out = values.out ?? join(ROOT, "load/reports", `chaos-${report.started_at.replace(/[:.]/g, "-")}.json`);
mkdirSync(join(out, ".."), { recursive: true });
writeFileSync(out, JSON.stringify(report, null, 2));
console.log(`\n${failed === 0 ? "chaos: all checks passed" : `chaos: ${failed} checks failed`}; report: ${out}`);
process.exit(failed === 0 ? 0 : 1);
