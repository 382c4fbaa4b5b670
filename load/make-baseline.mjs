#!/usr/bin/env node
// npm run perf:baseline -- [--profile NAME]: measure the reference figures of this machine and
// commit (mixed at its fixed rate, read-hot and mixed at max, cold start, bundle) into
// load/baselines/<profile>.json. The profile name says where it was measured (default: local-2core).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { measureColdStart } from "./driver/cold-start.mjs";
import { gitCommit, loadDefinitions, machineInfo, measureCeiling, runScenario } from "./driver/load.mjs";
import { ROOT, bundleSize, bundleWorker } from "./driver/targets.mjs";

const { values } = parseArgs({ options: { profile: { type: "string", default: "local-2core" } } });
const bundle = bundleWorker({ outDir: join(ROOT, "load/.build/micronode") });
const definitions = loadDefinitions();

async function scenario(options) {
  const { report, target, client } = await runScenario({ bundle, ...options });
  client.close();
  await target.mf.dispose();
  const pick = ({ route, requests, rps, p50_ms, p95_ms, p99_ms, max_ms, failure_rate }) => ({ route, requests, rps, p50_ms, p95_ms, p99_ms, max_ms, failure_rate });
  return { mode: report.mode, duration_s: report.duration_s, totals: report.totals, routes: report.routes.map(pick), server: report.server, slo_met: report.slo?.ok ?? null };
}

const figures = {
  mixed_fixed: await scenario({ scenario: "mixed" }),
  mixed_max: await scenario({ scenario: "mixed", max: true, durationS: 10 }),
  read_hot_max: await scenario({ scenario: "read-hot", max: true, durationS: 10 }),
  hello_ceiling: await measureCeiling({ durationS: 10 }),
  cold_start: await measureColdStart(bundle, 7),
  bundle: bundleSize(dirname(bundle)),
};
const baseline = {
  profile: values.profile,
  measured_at: new Date().toISOString(),
  commit: gitCommit(),
  machine: machineInfo(),
  config: { target: "micronode bundled by wrangler, served by Miniflare on 127.0.0.1 (no wrangler dev proxy)", vars: definitions.target_vars, defaults: "docs/CONFIG.md" },
  figures,
};
const out = join(ROOT, "load/baselines", `${values.profile}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(baseline, null, 2) + "\n");
console.log(JSON.stringify({ mixed_fixed: figures.mixed_fixed.routes, mixed_max_rps: figures.mixed_max.totals.achieved_rps, read_hot_max_rps: figures.read_hot_max.totals.achieved_rps, hello: figures.hello_ceiling.rps, cold: figures.cold_start.ready_ms, bundle: figures.bundle }, null, 1));
console.log(`baseline: ${out}`);
