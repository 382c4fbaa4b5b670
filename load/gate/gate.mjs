#!/usr/bin/env node
// npm run perf:gate -- --base <git-ref> [--head <git-ref>] [--rounds N] [--out file]
// Builds the base ref (and the head ref, default: this working tree) in temporary git worktrees,
// then measures them interleaved (A B A B ...) in one process on 127.0.0.1: p95 per route at a
// fixed rate, max throughput, workerd RSS and cold start. Fails (exit 1) when the change is worse
// than the seeds' gates (load/scenarios.json "gate").
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { measureColdStart } from "../driver/cold-start.mjs";
import { loadDefinitions, machineInfo, runScenario } from "../driver/load.mjs";
import { ROOT, bundleWorker } from "../driver/targets.mjs";
import { compareRuns } from "./compare.mjs";

const { values } = parseArgs({ options: { base: { type: "string" }, head: { type: "string" }, rounds: { type: "string" }, out: { type: "string" } } });
if (!values.base) {
  console.error("usage: npm run perf:gate -- --base <git-ref> [--head <git-ref>]");
  process.exit(2);
}
const git = (...args) => execFileSync("git", args, { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] }).toString().trim();
const gate = loadDefinitions().gate;
const rounds = Number(values.rounds ?? gate.rounds);
const scratch = mkdtempSync(join(tmpdir(), "ron-gate-"));
const worktrees = [];

/** A checkout of `ref` with dependencies: node_modules shared when the lock file is the same. */
function checkout(ref, label) {
  const dir = join(scratch, label);
  git("worktree", "add", "--detach", dir, ref);
  worktrees.push(dir);
  const sameLock = readFileSync(join(dir, "package-lock.json"), "utf8") === readFileSync(join(ROOT, "package-lock.json"), "utf8");
  if (sameLock) {
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
    execFileSync(process.execPath, [join(dir, "scripts/extract-blake3-wasm.mjs")], { cwd: dir, stdio: "inherit" });
  } else {
    execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: dir, stdio: "inherit", env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" } });
  }
  return dir;
}

function build(root, label) {
  const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root }).toString().trim();
  const dirty = root === ROOT && git("status", "--porcelain").length > 0;
  const bundle = bundleWorker({ root, outDir: join(scratch, `build-${label}`) });
  return { label, root, commit: dirty ? `${commit}+changes` : commit, bundle };
}

async function measure(side) {
  const latency = await runScenario({ scenario: gate.latency.scenario, rate: gate.latency.rate, durationS: gate.latency.duration_s, bundle: side.bundle });
  latency.client.close();
  await latency.target.mf.dispose();
  const throughput = await runScenario({ scenario: gate.throughput.scenario, max: true, connections: gate.throughput.connections, durationS: gate.throughput.duration_s, bundle: side.bundle });
  throughput.client.close();
  await throughput.target.mf.dispose();
  const cold = await measureColdStart(side.bundle, gate.cold_start_runs);
  return {
    p95_ms: Object.fromEntries(latency.report.routes.map((r) => [r.route, r.p95_ms])),
    throughput_rps: throughput.report.totals.achieved_rps,
    rss_max_bytes: Math.max(latency.report.server.rss_max_bytes, throughput.report.server.rss_max_bytes),
    cold_start_ms: cold.ready_ms.median,
    failure_rate: latency.report.totals.failure_rate,
  };
}

let exitCode = 1;
try {
  const base = build(checkout(values.base, "base"), "base");
  const head = build(values.head ? checkout(values.head, "head") : ROOT, "head");
  console.log(`perf gate: base ${values.base} (${base.commit}) vs head ${values.head ?? "working tree"} (${head.commit}), ${rounds} interleaved rounds`);
  const runs = { base: [], head: [] };
  for (let round = 1; round <= rounds; round++) {
    for (const side of [base, head]) {
      const result = await measure(side);
      runs[side.label].push(result);
      console.log(`round ${round} ${side.label}: p95 ${JSON.stringify(result.p95_ms)} throughput ${result.throughput_rps} req/s, RSS ${(result.rss_max_bytes / 1048576).toFixed(1)} MiB, cold start ${result.cold_start_ms} ms`);
    }
  }
  const verdict = compareRuns(runs.base, runs.head, gate.limits);
  console.table(verdict.checks.map((c) => ({ metric: c.metric, base: Math.round(c.base * 100) / 100, head: Math.round(c.head * 100) / 100, change: `${(c.change * 100).toFixed(1)}%`, limit: c.limit, ok: c.ok })));
  console.log(verdict.ok ? "perf gate: PASS" : "perf gate: FAIL");
  const report = { kind: "perf-gate", started_at: new Date().toISOString(), machine: machineInfo(), base: { ref: values.base, commit: base.commit }, head: { ref: values.head ?? "working tree", commit: head.commit }, gate, runs, verdict };
  const out = values.out ?? join(ROOT, "load/reports", `gate-${report.started_at.replace(/[:.]/g, "-")}.json`);
  mkdirSync(join(out, ".."), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2));
  console.log(`report: ${out}`);
  exitCode = verdict.ok ? 0 : 1;
} finally {
  for (const dir of worktrees) {
    try {
      git("worktree", "remove", "--force", dir);
    } catch {
      // already gone
    }
  }
  if (existsSync(scratch)) rmSync(scratch, { recursive: true, force: true });
}
process.exit(exitCode);
