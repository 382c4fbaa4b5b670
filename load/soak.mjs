#!/usr/bin/env node
// npm run soak -- [--minutes N] [--interval-s S] [--drill-every K] [--rate-factor F]
//                 [--rate mixed=N,edge=N,overlay=N] [--probe-s S] [--out file] [--bundle path]
//                 [--scenarios mixed,edge,overlay] [--inspect PORT [--snapshots DIR]] [--var NAME=VALUE ...]
//                 [--drill-key new|fixed] [--drill-sockets N]
// The seeds' 24 h soak, time-compressed: one micronode served by Miniflare on 127.0.0.1 takes the
// mixed, edge and overlay scenarios concurrently for --minutes (default 30). Each scenario's rate
// is a share of a capacity measured at the start (a closed-loop probe of each on the same target),
// so that together they fill --rate-factor (default 0.5) of the machine; --rate overrides it.
// Every --interval-s it reports p95 per route, failures and sheds, and workerd RSS; every
// --drill-every intervals a 10x burst from one client must be shed with 429 RATE_LIMIT and
// recover. At the end: RSS slope (least squares, MiB per minute), error budget spent (failures
// against the 0.1% SLO), the RSS ceiling, and a JSON report in load/reports/. Exits 1 on a miss.
// --scenarios runs some of them alone (which one grows?); --inspect PORT also records, every
// interval, the micronode isolate's V8 heap after a full GC (workerd's inspector on 127.0.0.1:PORT),
// so a growing JavaScript heap can be told apart from native memory; --snapshots DIR writes a heap
// snapshot after the first interval and after the last (load/heap-diff.mjs compares them).
// --drill-key fixed sends every drill as the same client (default `new`: a new client key, so a
// new RateLimiter object, per drill); --drill-sockets caps the drill's connections (default 16:
// one client's few; 1024, the drill before, measured workerd's memory per connection held open at
// once rather than the limiter: docs/PERFORMANCE.md, Soak).
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { closedLoop, createClient, openLoop } from "./driver/engine.mjs";
import { gitCommit, loadDefinitions, machineInfo, rssCheck, seedEdgeAssets, seedHotObjects, seedTiles } from "./driver/load.mjs";
import { overlayTraffic } from "./driver/overlay-traffic.mjs";
import { openHeapReader } from "./profile/inspector.mjs";
import { RouteStats, isSuccess, round, totals } from "./driver/stats.mjs";
import { ROOT, authHeaders, bundleWorker, micronodeOptions, rssBytes, rssParts, serve } from "./driver/targets.mjs";
import { WEBHOOK_SECRET, requestFactory } from "./driver/traffic.mjs";
import { createProgress, every } from "../scripts/progress.mjs";

const ALL_SCENARIOS = ["mixed", "edge", "overlay"];
// the drill's limiter: every client (x-load-client) has its own bucket of this size; steady
// traffic is spread over enough clients to stay under a quarter of it (arrivals bunch up behind a
// stall), the drill's one client offers 10x. Small, so the burst tests the limiter rather than
// swamping this 2-core machine (100/s × 10 did: limiter leases timed out, writes browned out).
// Overlay upgrades carry no client header: they share the "anonymous" bucket.
const CLIENT_HEADER = "x-load-client";
const BUCKET_RPS = 40;
const BUCKET_BURST = 20;
const DRILL = { factor: 10, seconds: 3, recovery_limit_ms: 5000 };
const MISSING = `/o/b3:${"e".repeat(64)}`; // an admitted GET answers 404

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "30" },
    "interval-s": { type: "string", default: "30" },
    "drill-every": { type: "string", default: "4" },
    "rate-factor": { type: "string", default: "0.5" },
    rate: { type: "string" },
    "probe-s": { type: "string", default: "3" },
    out: { type: "string" },
    bundle: { type: "string" },
    scenarios: { type: "string", default: ALL_SCENARIOS.join(",") },
    inspect: { type: "string" },
    snapshots: { type: "string" },
    var: { type: "string", multiple: true, default: [] },
    "drill-key": { type: "string", default: "new" },
    "drill-sockets": { type: "string", default: "16" },
  },
});
const SCENARIOS = values.scenarios.split(",").filter(Boolean);
for (const name of SCENARIOS) {
  if (!ALL_SCENARIOS.includes(name)) {
    console.error(`--scenarios: unknown "${name}"; known: ${ALL_SCENARIOS.join(", ")}`);
    process.exit(2);
  }
}
const inspectorPort = values.inspect === undefined ? undefined : Number(values.inspect);
if (inspectorPort !== undefined && !(Number.isInteger(inspectorPort) && inspectorPort > 0 && inspectorPort < 65536)) {
  console.error(`--inspect must be a port number, got "${values.inspect}"`);
  process.exit(2);
}
const drillSockets = Number(values["drill-sockets"]);
if (!["new", "fixed"].includes(values["drill-key"]) || !(Number.isInteger(drillSockets) && drillSockets > 0)) {
  console.error(`--drill-key must be new or fixed, --drill-sockets a positive integer`);
  process.exit(2);
}
const extraVars = Object.fromEntries(values.var.map((v) => [v.slice(0, v.indexOf("=")), v.slice(v.indexOf("=") + 1)]));
const minutes = Number(values.minutes);
const intervalS = Number(values["interval-s"]);
const drillEvery = Number(values["drill-every"]);
const rateFactor = Number(values["rate-factor"]);
const intervals = Math.max(1, Math.round((minutes * 60) / intervalS));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const definitions = loadDefinitions();
const progress = createProgress("soak");
const bundle = values.bundle ?? bundleWorker({ outDir: join(ROOT, "load/.build/micronode") });
const { $comment: _why, ...targetVars } = definitions.target_vars;
const vars = { GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET, ...targetVars, RATE_LIMIT_KEY: `header:${CLIENT_HEADER}`, RATE_LIMIT_RPS: String(BUCKET_RPS), RATE_LIMIT_BURST: String(BUCKET_BURST), ...extraVars };
const target = await serve(micronodeOptions(bundle, vars), { inspectorPort });
const heap = inspectorPort === undefined ? null : await openHeapReader({ port: inspectorPort });
/** MiB of V8 heap of the micronode isolate: committed, and retained after a full GC (null without --inspect or an answer). */
const heapMib = async () => {
  const usage = heap ? await heap.usage() : null;
  const mib = (bytes) => (bytes === null ? null : round(bytes / 1048576, 1));
  return usage ? { total: mib(usage.totalSize), retained: mib(usage.collected) } : null;
};
const startedAt = new Date().toISOString();
const http = createClient(target.url, 512);
const rssSamples = []; // [seconds since start, bytes]
const t0 = performance.now();
const sampleRss = () => {
  const bytes = rssBytes(target.pid);
  if (bytes) rssSamples.push([(performance.now() - t0) / 1000, bytes]);
  return bytes;
};
const sampler = setInterval(sampleRss, 1000);

/** Steady HTTP traffic goes out as one of `clients` limiter clients in turn, each under a quarter of a bucket. */
function spreadOverClients(sender, prefix) {
  let clients = 1;
  let turn = 0;
  return {
    setRate: (rate) => (clients = Math.max(1, Math.ceil(rate / (BUCKET_RPS / 4)))),
    client: { send: (request) => sender.send({ ...request, headers: { ...request.headers, [CLIENT_HEADER]: `${prefix}-${turn++ % clients}` } }) },
  };
}

// seeding (load.mjs, overlay-traffic.mjs) goes through global fetch without a client header: give
// each of its requests a client of its own, so dozens of seed PUTs do not meet the drill's small bucket
const plainFetch = globalThis.fetch;
let seedTurn = 0;
globalThis.fetch = (input, init = {}) => {
  const headers = new Headers(init.headers);
  if (!headers.has(CLIENT_HEADER)) headers.set(CLIENT_HEADER, `seed-${seedTurn++}`);
  return plainFetch(input, { ...init, headers });
};

let exitCode = 0;
try {
  const hot = await seedHotObjects(http, target.url, definitions.hot_objects);
  const assets = await seedEdgeAssets(target.url, definitions.edge_assets);
  await seedTiles(target.url, definitions.edge_tiles);
  const lanes = {};
  for (const name of SCENARIOS) {
    const scenario = definitions.scenarios[name];
    if (scenario.kind === "overlay") {
      const overlay = await overlayTraffic(scenario, target.url);
      lanes[name] = { next: overlay.next, client: overlay.client, setRate: () => {}, overlay };
    } else {
      const spread = spreadOverClients(http, name);
      lanes[name] = { next: await requestFactory(scenario, definitions, hot, assets), client: spread.client, setRate: spread.setRate };
    }
  }

  // capacity: each scenario alone, closed loop, on this target (after a 1 s warm-up)
  const rates = {};
  const capacity = {};
  const overrides = Object.fromEntries((values.rate ?? "").split(",").filter(Boolean).map((kv) => kv.split("=")).map(([k, v]) => [k, Number(v)]));
  const probing = progress.phase("capacity probes", SCENARIOS.length, "scenarios");
  for (const name of SCENARIOS) {
    probing.increment(0, name);
    const lane = lanes[name];
    if (overrides[name] !== undefined) {
      rates[name] = overrides[name];
      continue;
    }
    lane.setRate(BUCKET_RPS * 64); // the probe must not meet the limiter
    await closedLoop({ client: lane.client, next: lane.next, connections: 16, durationS: 1, record: () => {} });
    let ok = 0;
    const probe = await closedLoop({ client: lane.client, next: lane.next, connections: 16, durationS: Number(values["probe-s"]), record: (_r, result) => (ok += isSuccess(result.status) ? 1 : 0) });
    capacity[name] = round(ok / probe.elapsedS, 1);
    // together the three fill rateFactor of the machine: each gets its share of its own capacity
    rates[name] = Math.max(1, Math.round((capacity[name] * rateFactor) / SCENARIOS.length));
    probing.increment(1, `${name} ${capacity[name]}/s`);
  }
  for (const name of SCENARIOS) lanes[name].setRate(rates[name]);
  progress.log(`soak: ${intervals} × ${intervalS} s; capacity ${JSON.stringify(capacity)} → rates ${JSON.stringify(rates)} per s`);
  await sleep(1500); // probe queues drain, probe buckets refill
  for (const lane of Object.values(lanes)) await lane.overlay?.begin();

  const all = new Map(); // route → RouteStats over the whole soak
  const table = [];
  const drills = [];
  const soaking = progress.phase("soaking", intervals * intervalS, "s");
  let lastInterval = "";
  const stopBar = every(500, (s) => soaking.update(Math.floor(s), lastInterval));
  for (let i = 0; i < intervals; i++) {
    const stats = new Map();
    const record = (route, result, ms, second) => {
      for (const map of [stats, all]) {
        let s = map.get(route);
        if (!s) map.set(route, (s = new RouteStats(route)));
        if (result.error) s.recordError(result.error, ms, second);
        else s.record(ms, result.status, second);
      }
    };
    const isDrill = drillEvery > 0 && i % drillEvery === drillEvery - 1;
    const started = performance.now();
    const runs = SCENARIOS.map((name) => openLoop({ client: lanes[name].client, next: lanes[name].next, rate: rates[name], durationS: intervalS, record }));
    if (isDrill) runs.push(sleep(Math.max(0, (intervalS - DRILL.seconds) * 500)).then(() => burstDrill(i)));
    await Promise.all(runs);
    const elapsed = (performance.now() - started) / 1000;
    const rss = sampleRss();
    const heapUsed = await heapMib();
    // after the inspector's full GC: RSS that a GC gives back was V8 garbage, not a leak
    const rssAfterGc = heapUsed === null ? null : rssBytes(target.pid);
    if (heap && heapUsed?.retained != null && values.snapshots && (i === 0 || i === intervals - 1)) {
      mkdirSync(values.snapshots, { recursive: true });
      writeFileSync(join(values.snapshots, `soak-${i + 1}.heapsnapshot`), await heap.snapshot());
    }
    const routes = [...stats.values()].map((s) => s.summary(elapsed)).sort((a, b) => a.route.localeCompare(b.route));
    const total = totals(routes, elapsed);
    const row = {
      interval: i + 1,
      at_s: round((performance.now() - t0) / 1000, 1),
      drill: isDrill,
      requests: total.requests,
      failures: total.failures,
      shed: routes.reduce((n, r) => n + r.shed, 0),
      failed_as: failedAs(routes),
      rss_mib: round((rss ?? 0) / 1048576, 1),
      rss_anon_mib: round((rssParts(target.pid)?.anon ?? 0) / 1048576, 1),
      ...(heapUsed === null ? {} : { heap_total_mib: heapUsed.total, heap_mib: heapUsed.retained, rss_after_gc_mib: round((rssAfterGc ?? 0) / 1048576, 1) }),
      p95_ms: Object.fromEntries(routes.map((r) => [r.route, r.p95_ms])),
    };
    table.push(row);
    lastInterval = `#${row.interval}: ${row.failures} failed, RSS ${row.rss_mib} MiB`;
    progress.log(`#${row.interval}${isDrill ? " drill" : ""} ${row.requests} req, ${row.failures} failed ${JSON.stringify(row.failed_as)}, ${row.shed} shed, RSS ${row.rss_mib} MiB${heapUsed === null ? "" : `, heap ${heapUsed.total} MiB committed, ${heapUsed.retained} retained, RSS after GC ${row.rss_after_gc_mib} MiB`}, anon ${row.rss_anon_mib} MiB, p95 ${Object.entries(row.p95_ms).map(([r, ms]) => `${r} ${ms}`).join(" · ")}`);
  }
  stopBar();
  progress.phase("draining", 1).update(0);
  for (const lane of Object.values(lanes)) {
    if (lane.overlay) {
      lanes.gossip = await lane.overlay.finish((route, result, ms, second) => {
        let s = all.get(route);
        if (!s) all.set(route, (s = new RouteStats(route)));
        if (result.error) s.recordError(result.error, ms, second);
        else s.record(ms, result.status, second);
      });
      lane.overlay.close();
    }
  }
  clearInterval(sampler);

  const elapsedS = (performance.now() - t0) / 1000;
  const routes = [...all.values()].map((s) => s.summary(elapsedS)).sort((a, b) => a.route.localeCompare(b.route));
  const total = totals(routes, elapsedS);
  const slope = rssSlope(table.map((row) => [row.at_s / 60, row.rss_mib]));
  const rssMax = Math.max(0, ...rssSamples.map(([, b]) => b));
  const budget = { slo_failure_rate: definitions.slo.failure_rate_max, requests: total.requests, failures: total.failures, failure_rate: total.failure_rate, spent: round(total.failure_rate / definitions.slo.failure_rate_max, 3) };
  const checks = [
    ...routes.filter((r) => definitions.slo.p95_ms[r.route] !== undefined).map((r) => ({ what: `p95 ${r.route}`, actual: `${r.p95_ms} ms`, limit: `${definitions.slo.p95_ms[r.route]} ms`, ok: r.p95_ms <= definitions.slo.p95_ms[r.route] })),
    { what: "error budget spent", actual: `${round(budget.spent * 100, 1)}%`, limit: "100%", ok: budget.spent <= 1 },
    rssCheck(definitions, rssMax),
    ...drills.flatMap((d) => d.checks.map((c) => ({ ...c, what: `drill #${d.interval}: ${c.what}` }))),
  ];
  const report = {
    kind: "soak",
    started_at: startedAt,
    commit: gitCommit(),
    machine: machineInfo(),
    load_average: os.loadavg().map((v) => round(v, 2)),
    config: { scenarios: SCENARIOS, vars: extraVars, minutes, interval_s: intervalS, intervals, drill_every: drillEvery, rate_factor: rateFactor, drill_key: values["drill-key"], drill_sockets: drillSockets, probe_s: Number(values["probe-s"]), limiter: { key: `header:${CLIENT_HEADER}`, rps: BUCKET_RPS, burst: BUCKET_BURST } },
    capacity_rps: capacity,
    rates,
    intervals: table,
    rss: { slope_mib_per_min: slope, max_bytes: rssMax, first_mib: table[0]?.rss_mib ?? null, last_mib: table.at(-1)?.rss_mib ?? null },
    ...(heap ? { heap: { slope_mib_per_min: rssSlope(table.filter((row) => typeof row.heap_mib === "number").map((row) => [row.at_s / 60, row.heap_mib])), first_mib: table[0]?.heap_mib ?? null, last_mib: table.at(-1)?.heap_mib ?? null } } : {}),
    error_budget: budget,
    drills,
    totals: total,
    routes: routes.map(({ timeline: _t, percentiles: _p, ...r }) => r),
    ...(lanes.gossip ? { gossip: lanes.gossip } : {}),
    slo: { ok: checks.every((c) => c.ok), checks },
  };
  const out = values.out ?? join(ROOT, "load/reports", `soak-${startedAt.replace(/[:.]/g, "-")}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2));
  const misses = checks.filter((c) => !c.ok).map((c) => c.what);
  progress.done(`${intervals} intervals, ${total.requests} requests, error budget spent ${round(budget.spent * 100, 1)}%, RSS slope ${slope} MiB/min, ${drills.length} drill${drills.length === 1 ? "" : "s"}, ${misses.length ? `MISS ${misses.join(", ")}` : "all checks ok"}`);
  console.table(table.map(({ p95_ms, failed_as: _f, ...row }) => ({ ...row, ...p95_ms })));
  console.log(`RSS slope ${slope} MiB/min (first ${report.rss.first_mib}, last ${report.rss.last_mib}, max ${round(rssMax / 1048576, 1)} MiB); error budget spent ${round(budget.spent * 100, 1)}% (${budget.failures} of ${budget.requests}); load average ${report.load_average.join(" ")}`);
  for (const c of checks) console.log(`${c.ok ? "ok  " : "MISS"} ${c.what}: ${c.actual} (limit ${c.limit})`);
  console.log(`report: ${out}`);
  exitCode = report.slo.ok ? 0 : 1;

  /** 10x one client's bucket for 3 s: refused with 429 RATE_LIMIT, no 5xx, admitted again within 5 s. */
  async function burstDrill(interval) {
    const counts = {};
    let refusal = null;
    const rssBefore = rssBytes(target.pid);
    const limiterBefore = await limiterCounters();
    const drillClient = createClient(target.url, drillSockets);
    const headers = { [CLIENT_HEADER]: values["drill-key"] === "fixed" ? "drill" : `drill-${interval}` };
    await openLoop({
      client: drillClient,
      rate: BUCKET_RPS * DRILL.factor,
      durationS: DRILL.seconds,
      next: () => ({ route: "drill", method: "GET", path: MISSING, headers }),
      record: (_r, result) => (counts[result.status ?? result.error] = (counts[result.status ?? result.error] ?? 0) + 1),
    });
    const connections = drillClient.opened();
    drillClient.close();
    const ended = performance.now();
    let recoveryMs = null;
    while (performance.now() - ended < DRILL.recovery_limit_ms * 2) {
      const response = await fetch(`${target.url}${MISSING}`, { headers });
      if (response.status === 429) refusal ??= { retryAfter: response.headers.get("retry-after"), reason: (await response.json()).reason };
      else await response.arrayBuffer();
      if (response.status === 404) {
        recoveryMs = Math.round(performance.now() - ended);
        break;
      }
      await sleep(100);
    }
    const rssAfter = rssBytes(target.pid);
    const limiterAfter = await limiterCounters();
    // reads admitted because a lease did not come in time (fail-open), and lease RPCs made (null: the bundle has no such counter)
    const limiter = Object.fromEntries(Object.keys(limiterAfter).map((k) => [k, limiterAfter[k] === null || limiterBefore[k] === null ? null : limiterAfter[k] - limiterBefore[k]]));
    const checks = [
      { what: "burst shed with 429", actual: JSON.stringify(counts), limit: "some 429", ok: (counts[429] ?? 0) > 0 },
      { what: "no 5xx or errors", actual: JSON.stringify(counts), limit: "only 404/429", ok: Object.keys(counts).every((k) => k === "404" || k === "429") },
      { what: "recovery after the burst", actual: recoveryMs === null ? "none" : `${recoveryMs} ms`, limit: `≤ ${DRILL.recovery_limit_ms} ms`, ok: recoveryMs !== null && recoveryMs <= DRILL.recovery_limit_ms },
    ];
    if (refusal) checks.push({ what: "refusal is RATE_LIMIT with Retry-After", actual: `${refusal.reason} Retry-After=${refusal.retryAfter}`, limit: "RATE_LIMIT ≥1", ok: refusal.reason === "RATE_LIMIT" && Number(refusal.retryAfter) >= 1 });
    drills.push({ interval: interval + 1, kind: "burst-10x", offered_rps: BUCKET_RPS * DRILL.factor, seconds: DRILL.seconds, key: headers[CLIENT_HEADER], connections, counts, recovery_ms: recoveryMs, rss_before_mib: round(rssBefore / 1048576, 1), rss_after_mib: round(rssAfter / 1048576, 1), limiter, checks });
    progress.log(`drill #${interval + 1} (${headers[CLIENT_HEADER]}, ${connections} connections): ${JSON.stringify(counts)}, limiter ${JSON.stringify(limiter)}, RSS ${round(rssBefore / 1048576, 1)} → ${round(rssAfter / 1048576, 1)} MiB`);
  }
  /** The limiter's counters from /metrics (the isolate's): lease errors (each one a read admitted or a write refused) and lease calls. */
  async function limiterCounters() {
    const text = await (await fetch(`${target.url}/metrics`, { headers: authHeaders({ [CLIENT_HEADER]: "metrics" }) })).text();
    const sum = (name) => {
      const lines = text.split("\n").filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`));
      return lines.length ? lines.reduce((n, line) => n + Number(line.slice(line.lastIndexOf(" ") + 1)), 0) : null;
    };
    return { errors: sum("limiter_errors_total"), lease_calls: sum("rate_limit_lease_calls_total") };
  }
} catch (error) {
  console.error(error);
  exitCode = 2;
} finally {
  clearInterval(sampler);
  heap?.close();
  http.close();
  await target.mf.dispose();
}
process.exit(exitCode);

/** Statuses and error kinds of the failures, summed over routes: {"503": 4, "missing": 2}. */
function failedAs(routes) {
  const out = {};
  for (const r of routes) {
    for (const [status, n] of Object.entries(r.statuses)) if (!isSuccess(status) && status !== "error") out[status] = (out[status] ?? 0) + n;
    for (const [kind, n] of Object.entries(r.errors)) out[kind] = (out[kind] ?? 0) + n;
  }
  return out;
}

/** Least-squares slope of [x, y] points (y per unit of x); 0 with fewer than two points. */
export function rssSlope(points) {
  if (points.length < 2) return 0;
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  return sxx ? round(sxy / sxx, 3) : 0;
}
