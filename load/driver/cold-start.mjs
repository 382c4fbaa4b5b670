// Cold start of micronode: process launch → first /readyz 200 (a fresh Node process starting
// Miniflare/workerd with the bundle), the latency of that first request to a fresh isolate vs the
// next one, startup CPU of node + workerd, and the bundle's size.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { round } from "./stats.mjs";
import { bundleSize, cpuSeconds } from "./targets.mjs";

const CHILD = join(dirname(fileURLToPath(import.meta.url)), "cold-child.mjs");
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function timedGet(url) {
  const started = performance.now();
  const response = await fetch(url);
  await response.arrayBuffer();
  return { status: response.status, ms: performance.now() - started };
}

async function oneRun(bundle) {
  const launched = performance.now();
  const child = spawn(process.execPath, [CHILD, bundle], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const line = await new Promise((resolve, reject) => {
      const rl = createInterface({ input: child.stdout });
      rl.once("line", resolve);
      child.once("exit", (code) => reject(new Error(`cold-start child exited with ${code}`)));
    });
    const [, url, workerdPid] = line.split(" ");
    let first;
    for (;;) {
      first = await timedGet(`${url}/readyz`).catch(() => null);
      if (first?.status === 200) break;
      if (performance.now() - launched > 30_000) throw new Error("no /readyz 200 within 30 s");
      await new Promise((r) => setTimeout(r, 10));
    }
    const readyMs = performance.now() - launched;
    const second = await timedGet(`${url}/readyz`);
    const cpu = (cpuSeconds(child.pid) ?? 0) + (cpuSeconds(Number(workerdPid)) ?? 0);
    return { ready_ms: readyMs, first_request_ms: first.ms, second_request_ms: second.ms, startup_cpu_s: cpu };
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
  }
}

/** `runs` cold starts of `bundle`; medians and ranges. `progress` (scripts/progress.mjs) counts the runs. */
export async function measureColdStart(bundle, runs = 7, progress) {
  const results = [];
  const bar = progress?.phase("cold starts", runs, "runs");
  for (let i = 0; i < runs; i++) {
    results.push(await oneRun(bundle));
    bar?.increment(1, `last ready ${Math.round(results.at(-1).ready_ms)} ms`);
  }
  const stat = (key) => ({ median: round(median(results.map((r) => r[key]))), min: round(Math.min(...results.map((r) => r[key]))), max: round(Math.max(...results.map((r) => r[key]))) });
  return {
    runs,
    ready_ms: stat("ready_ms"),
    first_request_ms: stat("first_request_ms"),
    second_request_ms: stat("second_request_ms"),
    startup_cpu_s: stat("startup_cpu_s"),
    bundle: bundleSize(dirname(bundle)),
  };
}
