#!/usr/bin/env node
// npm run startup -- [--runs N] [--out file]: bundle every worker config as `wrangler deploy` does
// and measure its size and startup CPU, two ways: the inspector's CPU profile of the bundle's
// evaluation (per source), and workerd's CPU from launch to ready without an inspector, minus a
// hello-world worker's. Runs are interleaved across workers.
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { bootCpu, profileStartup } from "./driver/startup-profile.mjs";
import { ROOT, WORKER_CONFIGS, bundleSize, bundleWorker } from "./driver/targets.mjs";

const { values } = parseArgs({ options: { runs: { type: "string", default: "7" }, out: { type: "string" } } });
const runs = Number(values.runs);
const outDirs = {};
for (const [name, config] of Object.entries(WORKER_CONFIGS)) {
  outDirs[name] = join(ROOT, "load/.build/startup", name);
  bundleWorker({ config, outDir: outDirs[name] });
}
const hello = join(ROOT, "load/.build/startup/hello");
mkdirSync(hello, { recursive: true });
copyFileSync(join(ROOT, "load/fixtures/hello-worker.js"), join(hello, "index.js"));
const profiles = await profileStartup(outDirs, runs);
const boot = await bootCpu(outDirs, hello, runs);
const result = Object.fromEntries(
  Object.keys(outDirs).map((name) => [name, { bundle: bundleSize(outDirs[name]), profile: profiles[name], boot: boot[name] }]),
);
console.log(JSON.stringify(result, null, 2));
if (values.out) writeFileSync(values.out, JSON.stringify(result, null, 2));
