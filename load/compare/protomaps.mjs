#!/usr/bin/env node
// npm run compare:protomaps -- --protomaps-bundle <dist/index.js> [--seconds N] [--rounds K]
//   [--connections C] [--max-zoom Z] [--protomaps-cache on|off] [--port P] [--ours-bundle path]
//   [--profile DIR] [--out file.json]
// Edge tiles, ours vs protomaps' PMTiles Cloudflare worker (serverless/cloudflare in
// protomaps/PMTiles, built outside this repository: docs/PERFORMANCE.md, "Tiles vs protomaps'
// worker"). One Miniflare on 127.0.0.1 serves both and a hello-world worker; the same archive is
// published to ours and put in protomaps' R2 bucket; every tile is fetched from both once and
// compared byte for byte (that also warms both caches); then rounds of closed-loop load at maximum
// throughput over the same seeded tile order, interleaved (the order alternates each round), with
// workerd's CPU per request. This script fetches nothing.
import { writeFileSync, mkdirSync } from "node:fs";
import os from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { closedLoop, createClient } from "../driver/engine.mjs";
import { gitCommit, machineInfo } from "../driver/load.mjs";
import { RouteStats, round } from "../driver/stats.mjs";
import { ROOT, bundleWorker, cpuSeconds } from "../driver/targets.mjs";
import { analyseProfile, bundleLocator, renderTopTable } from "../profile/analyse.mjs";
import { renderFlameGraph } from "../profile/flamegraph.mjs";
import { startCpuProfile } from "../profile/inspector.mjs";
import { BUILD_DIR, allPositions, compareTiles, makeArchive, startPair, tileSequence } from "./pair.mjs";

const OPTIONS = {
  "protomaps-bundle": { type: "string" },
  "ours-bundle": { type: "string" },
  "base-bundle": { type: "string" },
  seconds: { type: "string", default: "5" },
  rounds: { type: "string", default: "3" },
  connections: { type: "string", default: "32" },
  "max-zoom": { type: "string", default: "6" },
  "protomaps-cache": { type: "string", default: "on" },
  port: { type: "string", default: "8811" },
  profile: { type: "string" },
  out: { type: "string" },
};
const usage = "usage: npm run compare:protomaps -- --protomaps-bundle <path to its built dist/index.js> [--seconds N] [--rounds K] [--connections C] [--max-zoom Z] [--protomaps-cache on|off] [--port P] [--profile DIR] [--out file.json]";
let values;
try {
  ({ values } = parseArgs({ options: OPTIONS }));
} catch (error) {
  console.error(`${error.message}\n${usage}`);
  process.exit(2);
}
const whole = (name, low, high) => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < low || n > high) {
    console.error(`--${name} must be a whole number in ${low}–${high}, got "${values[name]}"\n${usage}`);
    process.exit(2);
  }
  return n;
};
if (!values["protomaps-bundle"]) {
  console.error(usage);
  process.exit(2);
}
if (!["on", "off"].includes(values["protomaps-cache"])) {
  console.error(`--protomaps-cache must be on or off\n${usage}`);
  process.exit(2);
}
// bounded: at most 20 rounds of 60 s, 256 in flight, zoom 8 (87,381 positions)
const seconds = whole("seconds", 1, 60);
const rounds = whole("rounds", 1, 20);
const connections = whole("connections", 1, 256);
const maxZoom = whole("max-zoom", 1, 8);
const port = whole("port", 0, 65535);
const protomapsCache = values["protomaps-cache"] === "on";

const oursBundle = values["ours-bundle"] ? resolve(values["ours-bundle"]) : bundleWorker({ outDir: BUILD_DIR });
const protomapsBundle = resolve(values["protomaps-bundle"]);
const archive = makeArchive({ maxZoom });
const positions = allPositions(maxZoom);
const mib = (n) => `${(n / 1048576).toFixed(2)} MiB`;
console.log(`archive: ${mib(archive.bytes.length)}, zoom 0–${maxZoom}, ${archive.tiles} tiles of ${archive.positions} positions; tile bytes (gzip) min ${archive.tile_bytes.min}, p50 ${archive.tile_bytes.p50}, mean ${archive.tile_bytes.mean}, max ${archive.tile_bytes.max}`);

const loadAverage = () => os.loadavg()[0];
const baseBundle = values["base-bundle"] ? resolve(values["base-bundle"]) : undefined;
const target = await startPair({ oursBundle, protomapsBundle, archive, protomapsCache, port, inspectorPort: values.profile ? port + 1 : undefined, baseBundle });
const client = createClient(target.url, connections);
try {
  const check = await compareTiles(target.url, positions);
  console.log(`byte check: ${check.checked} positions, ${check.tiles} identical tiles (decoded), ${check.empty} empty (204) on both, ${check.mismatches.length} mismatches; bodies ours ${mib(check.wire_bytes.ours)} ${JSON.stringify(check.encodings.ours)}, protomaps ${mib(check.wire_bytes.protomaps)} ${JSON.stringify(check.encodings.protomaps)}`);
  if (check.mismatches.length) {
    console.error(JSON.stringify(check.mismatches, null, 2));
    throw new Error("the two workers answered differently");
  }

  if (baseBundle) {
    // another build of ours: warmed the same way; its answers are reported, not required to match
    const baseCheck = await compareTiles(target.url, positions, { side: "base" });
    console.log(`base (${baseBundle}): ${baseCheck.tiles} identical tiles, ${baseCheck.empty} empty, ${baseCheck.checked - baseCheck.tiles - baseCheck.empty} differing from protomaps' (decoded per Content-Encoding) ${JSON.stringify(baseCheck.mismatches.slice(0, 2))}`);
  }
  const sides = ["ours", "protomaps", ...(baseBundle ? ["base"] : []), "hello"];
  const sequences = Object.fromEntries(sides.map((side) => [side, tileSequence(side, positions)]));
  // warm-up, not recorded: JIT and keep-alive connections on every worker
  for (const side of sides) await closedLoop({ client, next: sequences[side], connections, durationS: 1, record: () => {} });

  const runs = [];
  for (let r = 0; r < rounds; r++) {
    const order = sides.map((_, i) => sides[(i + r) % sides.length]); // each round starts one later
    for (const side of order) {
      const stats = new RouteStats(side);
      const load1 = loadAverage();
      const cpuBefore = cpuSeconds(target.pid);
      const run = await closedLoop({
        client,
        next: sequences[side],
        connections,
        durationS: seconds,
        record: (_route, result, ms, second) => (result.error ? stats.recordError(result.error, ms, second) : stats.record(ms, result.status, second)),
      });
      const cpu = cpuSeconds(target.pid) - cpuBefore;
      const s = stats.summary(run.elapsedS);
      runs.push({ round: r + 1, side, rps: s.rps, p50_ms: s.p50_ms, p95_ms: s.p95_ms, p99_ms: s.p99_ms, failures: s.failures, statuses: s.statuses, cpu_ms_per_request: round((cpu * 1000) / s.requests, 3), load_average_1m: round(load1, 2) });
      console.log(`round ${r + 1} ${side.padEnd(9)} ${String(s.rps).padStart(9)} req/s  p50 ${s.p50_ms} ms  p95 ${s.p95_ms} ms  workerd CPU ${round((cpu * 1000) / s.requests, 3)} ms/req  failures ${s.failures}  load ${load1.toFixed(2)}`);
    }
  }

  const median = (list) => {
    const sorted = [...list].sort((a, b) => a - b);
    return sorted.length % 2 ? sorted[sorted.length >> 1] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  };
  const of = (side, key) => runs.filter((x) => x.side === side).map((x) => x[key]);
  const summary = Object.fromEntries(sides.map((side) => [side, { rps_median: round(median(of(side, "rps")), 1), rps_runs: of(side, "rps"), p50_ms_median: median(of(side, "p50_ms")), p95_ms_median: median(of(side, "p95_ms")), cpu_ms_per_request_median: median(of(side, "cpu_ms_per_request")), failures: of(side, "failures").reduce((a, b) => a + b, 0) }]));
  const perRound = [...new Set(runs.map((x) => x.round))].map((n) => {
    const get = (side) => runs.find((x) => x.round === n && x.side === side);
    const ratios = (side) => ({ throughput_ratio: round(get(side).rps / get("protomaps").rps, 2), cpu_ratio: round(get("protomaps").cpu_ms_per_request / get(side).cpu_ms_per_request, 2) });
    return { round: n, ...ratios("ours"), ...(baseBundle ? { base: ratios("base") } : {}) };
  });
  const report = {
    command: `npm run compare:protomaps -- ${process.argv.slice(2).join(" ")}`,
    commit: gitCommit(),
    started_at: new Date().toISOString(),
    machine: machineInfo(),
    archive: { bytes: archive.bytes.length, max_zoom: maxZoom, tiles: archive.tiles, positions: archive.positions, tile_bytes: archive.tile_bytes },
    protomaps: { bundle: protomapsBundle, cache: protomapsCache },
    ours_bundle: oursBundle,
    base_bundle: baseBundle ?? null,
    byte_check: check,
    connections,
    seconds,
    runs,
    summary,
    ratio: {
      throughput_median: round(summary.ours.rps_median / summary.protomaps.rps_median, 2),
      cpu_per_request_median: round(summary.protomaps.cpu_ms_per_request_median / summary.ours.cpu_ms_per_request_median, 2),
      per_round: perRound,
    },
  };
  console.log(`\nmedian of ${rounds} rounds (${connections} in flight, ${seconds} s each):`);
  for (const side of sides) console.log(`  ${side.padEnd(9)} ${summary[side].rps_median} req/s, p50 ${summary[side].p50_ms_median} ms, p95 ${summary[side].p95_ms_median} ms, workerd CPU ${summary[side].cpu_ms_per_request_median} ms/req`);
  console.log(`ours / protomaps: throughput ${report.ratio.throughput_median}×, CPU per request ${report.ratio.cpu_per_request_median}× less (per round: ${perRound.map((x) => `${x.throughput_ratio}× / ${x.cpu_ratio}×`).join(", ")})`);
  if (baseBundle) {
    report.ratio.base = { throughput_median: round(summary.base.rps_median / summary.protomaps.rps_median, 2), cpu_per_request_median: round(summary.protomaps.cpu_ms_per_request_median / summary.base.cpu_ms_per_request_median, 2) };
    console.log(`base / protomaps: throughput ${report.ratio.base.throughput_median}×, CPU per request ${report.ratio.base.cpu_per_request_median}× less (per round: ${perRound.map((x) => `${x.base.throughput_ratio}× / ${x.base.cpu_ratio}×`).join(", ")})`);
  }

  if (values.profile) {
    // a separate round of ours under the profiler (its cost would skew the measured rounds)
    const outDir = resolve(values.profile);
    mkdirSync(outDir, { recursive: true });
    const recording = await startCpuProfile({ port: port + 1, worker: "micronode", seconds });
    await closedLoop({ client, next: sequences.ours, connections, durationS: seconds, record: () => {} });
    const analysis = analyseProfile(await recording.done, { locator: bundleLocator(oursBundle, ROOT) });
    const header = [`# CPU profile: warm edge tiles (ours) in npm run compare:protomaps`, "", `- command: \`${report.command}\``, `- commit ${report.commit}, ${report.started_at}; closed loop, ${connections} in flight, ${seconds} s; load average ${loadAverage().toFixed(2)}`, ""];
    const base = join(outDir, "compare-protomaps-ours");
    writeFileSync(`${base}.md`, renderTopTable(analysis, { top: 40, header }));
    writeFileSync(`${base}.svg`, renderFlameGraph(analysis, { title: "micronode CPU profile — warm tiles (compare:protomaps)", subtitle: `commit ${report.commit}, ${report.started_at}` }));
    writeFileSync(`${base}.cpuprofile`, JSON.stringify(await recording.done));
    console.log(`profile: ${base}.{md,svg,cpuprofile}`);
  }
  if (values.out) writeFileSync(values.out, JSON.stringify(report, null, 2));
} finally {
  client.close();
  await target.mf.dispose();
}
