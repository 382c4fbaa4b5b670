// A/B of the tile hot path over a multi-MiB pack (5.6 MiB: zoom 0–5, 1 365 tiles of 4 KiB), base vs
// head bundles, interleaved. Per build and round: a fresh Miniflare on 127.0.0.1:8813, the pack
// published, the first tile timed (mount), then 5 s closed loop (8 connections) of random tiles,
// once with EDGE_TILE_CACHE_BYTES=0 (every tile read from the store: the uncached path) and once
// with the default cache (warm: hits after the first pass). CPU is the workerd process's.
// usage: node docs/perf/tiles-verified-ab.mjs <base bundle.js> <head bundle.js> [rounds] [--profile <file.md>]
// (--profile: instead of the A/B, one uncached run of the head bundle under the CPU profiler)
import { writeFileSync } from "node:fs";
import { analyseProfile, bundleLocator, renderTopTable } from "../../load/profile/analyse.mjs";
import { startCpuProfile } from "../../load/profile/inspector.mjs";
import { closedLoop, createClient } from "../../load/driver/engine.mjs";
import { authHeaders, cpuSeconds, micronodeOptions, serve } from "../../load/driver/targets.mjs";
import { loadDefinitions } from "../../load/driver/load.mjs";
import { tileArchive } from "../../load/driver/traffic.mjs";

const args = process.argv.slice(2);
const profileAt = args.indexOf("--profile");
const profileTo = profileAt >= 0 ? args.splice(profileAt, 2)[1] : null;
const [baseBundle, headBundle, roundsArg] = args;
const rounds = Number(roundsArg ?? 3);
const MAX_ZOOM = 5;
const pack = await tileArchive(MAX_ZOOM, 4096);
const tiles = [];
for (let z = 0; z <= MAX_ZOOM; z++) for (let x = 0; x < 2 ** z; x++) for (let y = 0; y < 2 ** z; y++) tiles.push(`/edge/tiles/big/${z}/${x}/${y}.mvt`);
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function measure(bundle, cacheBytes, profileFile = null) {
  // the load harness's knobs (rate limits lifted), then the pack's
  const { $comment: _why, ...targetVars } = loadDefinitions().target_vars;
  const vars = { ...targetVars, MAX_BODY_BYTES: String(16 * 1024 * 1024), EDGE_PACKS: "big=load/big.pmtiles", ...(cacheBytes === null ? {} : { EDGE_TILE_CACHE_BYTES: String(cacheBytes) }) };
  const target = await serve(micronodeOptions(bundle, vars), { port: 8813, ...(profileFile ? { inspectorPort: 0 } : {}) });
  try {
    const put = await fetch(`${target.url}/edge/assets/load/big.pmtiles`, { method: "PUT", body: pack, headers: authHeaders() });
    if (!put.ok) throw new Error(`publish failed: ${put.status} ${await put.text()}`);
    const t0 = performance.now();
    const first = await fetch(`${target.url}${tiles[tiles.length - 1]}`);
    await first.arrayBuffer();
    const mountMs = performance.now() - t0;
    const client = createClient(target.url, 16);
    if (cacheBytes === null) for (const path of tiles) await (await fetch(`${target.url}${path}`)).arrayBuffer(); // warm: every tile held
    const latencies = [];
    const failures = {};
    const profiling = profileFile ? await startCpuProfile({ port: Number(new URL(await target.mf.getInspectorURL()).port), seconds: 5 }) : null;
    const cpu0 = cpuSeconds(target.pid);
    const run = await closedLoop({
      client,
      connections: 8,
      durationS: 5,
      next: () => ({ route: "tile", method: "GET", path: tiles[Math.floor(Math.random() * tiles.length)], headers: {} }),
      record: (_route, result, ms) => (result.status === 200 ? latencies.push(ms) : (failures[result.status ?? result.error] = (failures[result.status ?? result.error] ?? 0) + 1)),
    });
    const cpu = cpuSeconds(target.pid) - cpu0;
    client.close();
    latencies.sort((a, b) => a - b);
    if (profiling) {
      const analysis = analyseProfile(await profiling.done, { locator: bundleLocator(bundle, new URL("../..", import.meta.url).pathname) });
      writeFileSync(profileFile, renderTopTable(analysis, { top: 40, header: [`# CPU profile: uncached tiles of a 5.6 MiB pack`, "", `- command: \`node docs/perf/tiles-verified-ab.mjs … --profile ${profileFile}\` (bundle ${bundle}), ${new Date().toISOString()}`, ""] }));
    }
    return { mount_ms: +mountMs.toFixed(1), rps: +(latencies.length / run.elapsedS).toFixed(0), p50_ms: +pct(latencies, 50).toFixed(2), p95_ms: +pct(latencies, 95).toFixed(2), cpu_us_per_tile: +((cpu / latencies.length) * 1e6).toFixed(0), failures };
  } finally {
    await target.mf.dispose();
  }
}

if (profileTo) {
  console.log(JSON.stringify({ profile: profileTo, ...(await measure(headBundle, 0, profileTo)) }));
  process.exit(0);
}
for (let round = 1; round <= rounds; round++) {
  for (const [cacheLabel, cacheBytes] of [["uncached", 0], ["cached", null]]) {
    for (const [who, bundle] of [["base", baseBundle], ["head", headBundle]]) {
      console.log(JSON.stringify({ round, cache: cacheLabel, who, ...(await measure(bundle, cacheBytes)) }));
    }
  }
}
