// One load run: start the target, seed hot objects, warm up, drive the scenario (fixed rate or
// max), sample the server's memory and CPU, measure the hello-world ceiling, judge the SLO.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { closedLoop, createClient, openLoop } from "./engine.mjs";
import { every } from "../../scripts/progress.mjs";
import { RouteStats, isSuccess, totals, round } from "./stats.mjs";
import { ROOT, authHeaders, cpuSeconds, helloOptions, micronodeOptions, rssBytes, serve } from "./targets.mjs";
import { overlayTraffic } from "./overlay-traffic.mjs";
import { startLatencyProxy } from "./latency-proxy.mjs";
import { probeHttpRoundTrips, probeOverlayRoundTrips } from "./round-trips.mjs";
import { WEBHOOK_SECRET, requestFactory, textBytes, tileArchive } from "./traffic.mjs";

export const loadDefinitions = (root = ROOT) => JSON.parse(readFileSync(join(root, "load/scenarios.json"), "utf8"));

export function machineInfo() {
  return { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model ?? "unknown", memory_bytes: os.totalmem(), node: process.version, platform: `${os.platform()} ${os.release()}` };
}

export function gitCommit(root = ROOT) {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
  } catch {
    return "unknown";
  }
}

/** Publish the edge assets once; returns their paths. */
export async function seedEdgeAssets(baseUrl, spec) {
  const paths = [];
  for (let i = 0; i < spec.count; i++) {
    const path = `load/asset-${i}.bin`;
    const response = await fetch(`${baseUrl}/edge/assets/${path}`, { method: "PUT", body: textBytes(spec.sizes[i % spec.sizes.length]), headers: authHeaders() });
    if (!response.ok) throw new Error(`seeding edge assets failed: ${response.status} ${await response.text()}`);
    paths.push(path);
  }
  return paths;
}

/** Publish the load tile archive once. */
export async function seedTiles(baseUrl, spec) {
  const body = await tileArchive(spec.max_zoom, spec.tile_bytes);
  const response = await fetch(`${baseUrl}/edge/assets/${spec.path}`, { method: "PUT", body, headers: authHeaders() });
  if (!response.ok) throw new Error(`seeding tiles failed: ${response.status} ${await response.text()}`);
}

/** PUT the hot objects once; returns their addresses. */
export async function seedHotObjects(client, baseUrl, spec) {
  const addresses = [];
  for (let i = 0; i < spec.count; i++) {
    const body = textBytes(spec.sizes[i % spec.sizes.length]);
    const response = await fetch(`${baseUrl}/put`, { method: "POST", body, headers: authHeaders({ "content-type": "application/octet-stream" }) });
    if (!response.ok) throw new Error(`seeding hot objects failed: ${response.status} ${await response.text()}`);
    addresses.push((await response.json()).address);
  }
  return addresses;
}

/** The workerd RSS ceiling (load/scenarios.json slo.workerd_rss_max_mib) judged against a run's maximum. */
export function rssCheck(definitions, rssMaxBytes) {
  const limit = definitions.slo.workerd_rss_max_mib;
  const mib = Math.round((rssMaxBytes / 1048576) * 10) / 10;
  return { what: "workerd RSS max", actual: `${mib} MiB`, limit: `${limit} MiB`, ok: rssMaxBytes <= limit * 1048576 };
}

/**
 * The p95 limit of a route: the intra-region SLO, or with a client network (`--client-rtt`) the
 * inter-region one: intra + one round trip (and the jitter's worst case), except handshakes, which
 * have their own inter-region limit (slo.inter_region in load/scenarios.json).
 */
export function p95LimitOf(definitions, route, network) {
  const intra = definitions.slo.p95_ms[route];
  if (intra === undefined || !network) return intra;
  const inter = definitions.slo.inter_region;
  if (route.startsWith("WS handshake")) return inter.handshake_p95_ms;
  return intra + network.client_rtt_ms + network.jitter_ms / 2;
}

export function sloChecks(definitions, routeSummaries, total, rssMaxBytes, network = null) {
  const checks = [];
  for (const r of routeSummaries) {
    const limit = p95LimitOf(definitions, r.route, network);
    if (limit !== undefined) checks.push({ what: `p95 ${r.route}${network ? " (inter-region)" : ""}`, actual: `${r.p95_ms} ms`, limit: `${limit} ms`, ok: r.p95_ms <= limit });
  }
  checks.push({ what: "failure rate", actual: `${(total.failure_rate * 100).toFixed(3)}%`, limit: `${definitions.slo.failure_rate_max * 100}%`, ok: total.failure_rate <= definitions.slo.failure_rate_max });
  if (rssMaxBytes !== undefined) checks.push(rssCheck(definitions, rssMaxBytes));
  return { ok: checks.every((c) => c.ok), checks };
}

/**
 * @param {object} o
 * @param {string} o.scenario  name in load/scenarios.json
 * @param {number} [o.rate]    arrivals per second (default: the scenario's); ignored with `max`
 * @param {boolean} [o.max]    closed loop at `connections` for maximum throughput
 * @param {number} [o.durationS]
 * @param {number} [o.connections]  in-flight requests in max mode (default 32)
 * @param {string} o.bundle    path of the bundled micronode entry (see bundleWorker)
 * @param {Record<string,string>} [o.vars]  knob overrides for the target
 * @param {boolean} [o.ceiling]  also measure the hello-world ceiling (default true)
 * @param {number} [o.inspectorPort]  expose workerd's inspector (0: any free port)
 * @param {number} [o.clientRttMs]  put a latency-injecting proxy with this round-trip time between the load clients and the target
 * @param {number} [o.jitterMs]     its jitter (each one-way delay varies by up to ±jitter/2)
 * @param {(target: {mf: object, url: string, pid: number|null}) => Promise<void>|void} [o.onMeasure]
 *   called after the warm-up, just before the measured run (npm run profile starts its profile here)
 * @param {ReturnType<import("../../scripts/progress.mjs").createProgress>} [o.progress]  shows the measured run's seconds
 */
export async function runScenario(o) {
  const definitions = loadDefinitions(o.root);
  const scenario = definitions.scenarios[o.scenario];
  if (!scenario) throw new Error(`unknown scenario "${o.scenario}"; known: ${Object.keys(definitions.scenarios).join(", ")}`);
  if (scenario.status !== "ready") throw new Error(`scenario "${o.scenario}" is ${scenario.status}: ${scenario.description}`);
  const durationS = o.durationS ?? scenario.duration_s;
  const rate = o.rate ?? scenario.rate;
  const connections = o.connections ?? 32;

  const { $comment: _why, ...targetVars } = definitions.target_vars ?? {};
  const vars = { GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET, ...targetVars, ...(o.vars ?? {}) };
  const target = await serve(micronodeOptions(o.bundle, vars), { inspectorPort: o.inspectorPort });
  // with a client network, measured traffic goes through the latency proxy; seeding goes direct
  const proxy = o.clientRttMs !== undefined ? await startLatencyProxy({ target: target.url, rttMs: o.clientRttMs, jitterMs: o.jitterMs ?? 0 }) : null;
  const network = proxy ? { client_rtt_ms: o.clientRttMs, jitter_ms: o.jitterMs ?? 0, proxy: proxy.url } : null;
  const clientUrl = proxy?.url ?? target.url;
  const client = createClient(clientUrl, Math.max(connections, 256));
  const rss = [];
  const sampler = setInterval(() => {
    const value = rssBytes(target.pid);
    if (value) rss.push(value);
  }, 250);
  try {
    const hot = await seedHotObjects(client, target.url, definitions.hot_objects);
    const assets = scenario.mix.some((m) => m.route === "GET /edge/assets/*") ? await seedEdgeAssets(target.url, definitions.edge_assets) : [];
    if (scenario.mix.some((m) => m.route === "GET /edge/tiles/*")) await seedTiles(target.url, definitions.edge_tiles);
    // overlay scenarios send operations over WebSocket sessions instead of HTTP requests
    const overlay = scenario.kind === "overlay" ? await overlayTraffic(scenario, clientUrl) : null;
    const next = overlay ? overlay.next : await requestFactory(scenario, definitions, hot, assets);
    const sender = overlay ? overlay.client : client;
    // warm-up, not recorded: JIT, connections, store
    await openLoop({ client: sender, next, rate: Math.min(rate, 200), durationS: 1, record: () => {} });
    await overlay?.begin();

    const stats = new Map();
    let answered = 0;
    let failed = 0;
    const record = (route, result, latencyMs, second) => {
      answered++;
      if (result.error || !isSuccess(result.status)) failed++;
      let s = stats.get(route);
      if (!s) stats.set(route, (s = new RouteStats(route)));
      if (result.error) s.recordError(result.error, latencyMs, second);
      else s.record(latencyMs, result.status, second);
    };
    await o.onMeasure?.(target);
    const cpuBefore = cpuSeconds(target.pid);
    const generatorCpuBefore = process.cpuUsage();
    const bar = o.progress?.phase(`${o.scenario} ${o.max ? `max ×${connections}` : `${rate}/s`}`, durationS, "s");
    const stopBar = bar ? every(250, (s) => bar.update(Math.floor(s), `${answered} answered, ${failed} failed`)) : () => {};
    const run = await (o.max ? closedLoop({ client: sender, next, connections, durationS, record }) : openLoop({ client: sender, next, rate, durationS, record })).finally(stopBar);
    const gossip = (await overlay?.finish(record)) ?? null;
    if (network) network.round_trips = overlay ? await probeOverlayRoundTrips(proxy, overlay) : await probeHttpRoundTrips(proxy, next);
    overlay?.close();
    await proxy?.close();
    const cpuAfter = cpuSeconds(target.pid);
    const generatorCpu = process.cpuUsage(generatorCpuBefore);
    clearInterval(sampler);

    const routes = [...stats.values()].map((s) => s.summary(run.elapsedS)).sort((a, b) => a.route.localeCompare(b.route));
    const total = totals(routes, run.elapsedS);
    const report = {
      scenario: o.scenario,
      mode: o.max ? `max (${connections} in flight)` : `fixed rate ${rate}/s`,
      asked_rps: o.max ? null : rate,
      duration_s: durationS,
      started_at: new Date().toISOString(),
      commit: gitCommit(o.root),
      machine: machineInfo(),
      target: { kind: "micronode on Miniflare (no wrangler proxy)", url: target.url, vars: { ...vars, GITHUB_WEBHOOK_SECRET: "(set)" } },
      // the generator shares the machine's cores with workerd: its CPU says how much it took
      generator: { overflow: run.overflow, sent: run.sent, elapsed_s: round(run.elapsedS), cpu_seconds: round((generatorCpu.user + generatorCpu.system) / 1e6, 2) },
      totals: total,
      routes,
      ...(network ? { network } : {}),
      ...(gossip ? { gossip } : {}),
      server: {
        rss_max_bytes: Math.max(0, ...rss),
        rss_mean_bytes: rss.length ? Math.round(rss.reduce((a, b) => a + b, 0) / rss.length) : 0,
        cpu_seconds: cpuBefore !== null && cpuAfter !== null ? round(cpuAfter - cpuBefore, 2) : null,
      },
    };
    // the RSS ceiling is judged on every run, max mode included (where latency has no SLO)
    report.server.rss_ceiling = rssCheck(definitions, report.server.rss_max_bytes);
    report.slo = o.max ? null : sloChecks(definitions, routes, total, report.server.rss_max_bytes, network);
    return { report, target, client };
  } catch (error) {
    clearInterval(sampler);
    await proxy?.close();
    client.close();
    await target.mf.dispose();
    throw error;
  }
}

/** Maximum throughput of the hello-world worker on the same runtime: the ceiling. */
export async function measureCeiling({ durationS = 5, connections = 32, progress } = {}) {
  const hello = await serve(helloOptions());
  const client = createClient(hello.url, connections);
  const next = () => ({ route: "GET /", method: "GET", path: "/", headers: {} });
  try {
    await closedLoop({ client, next, connections, durationS: 1, record: () => {} });
    const stats = new RouteStats("GET /");
    const bar = progress?.phase("hello-world ceiling", durationS, "s");
    const stopBar = bar ? every(250, (s) => bar.update(Math.floor(s))) : () => {};
    const run = await closedLoop({ client, next, connections, durationS, record: (_r, result, ms, second) => stats.record(ms, result.status ?? "error", second) }).finally(stopBar);
    const summary = stats.summary(run.elapsedS);
    return { rps: summary.rps, p50_ms: summary.p50_ms, p95_ms: summary.p95_ms, connections, duration_s: durationS };
  } finally {
    client.close();
    await hello.mf.dispose();
  }
}
