#!/usr/bin/env node
// npm run perf:gate -- [--base <git-ref>] [--head <git-ref>] [--no-baseline] [--rounds N] [--out file]
// Builds the base ref, the commit of the stored baseline (load/baselines/local-2core.json) and the
// head ref (default: this working tree) in temporary git worktrees, then measures them interleaved
// (A B C A B C ...) in one process on 127.0.0.1: p95 per route, CPU per request and shed rate of the
// mixed, edge and overlay scenarios at fixed rates, max throughput (read-hot), workerd RSS and cold
// start. Fails (exit 1) when the change is worse than the seeds' gates (load/scenarios.json "gate")
// against the base OR against the stored baseline: each step passing against its parent cannot
// hide drift that adds up. Without --base only the stored baseline is compared.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { measureColdStart } from "../driver/cold-start.mjs";
import { loadDefinitions, machineInfo, runScenario } from "../driver/load.mjs";
import { ROOT, bundleWorker } from "../driver/targets.mjs";
import { compareRuns } from "./compare.mjs";
import { createProgress } from "../../scripts/progress.mjs";

const { values } = parseArgs({ options: { base: { type: "string" }, head: { type: "string" }, "no-baseline": { type: "boolean", default: false }, baseline: { type: "string", default: "local-2core" }, rounds: { type: "string" }, out: { type: "string" } } });
const stored = values["no-baseline"] ? null : JSON.parse(readFileSync(join(ROOT, "load/baselines", `${values.baseline}.json`), "utf8"));
if (!values.base && !stored) {
  console.error("usage: npm run perf:gate -- [--base <git-ref>] [--head <git-ref>] [--no-baseline] [--baseline <profile>]");
  process.exit(2);
}
const git = (...args) => execFileSync("git", args, { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] }).toString().trim();
const gate = loadDefinitions().gate;
const rounds = Number(values.rounds ?? gate.rounds);
const scratch = mkdtempSync(join(tmpdir(), "ron-gate-"));
const worktrees = [];
const progress = createProgress("perf gate");
/** The bar of measuring steps (each scenario, the throughput pass and the cold starts of one side in one round). */
let steps = { increment() {} };
const stepsPerSide = gate.latency.scenarios.length + 2;

/** A checkout of `ref` with dependencies: node_modules shared when the lock file is the same. */
function checkout(ref, label) {
  const dir = join(scratch, label);
  git("worktree", "add", "--detach", dir, ref);
  worktrees.push(dir);
  const sameLock = readFileSync(join(dir, "package-lock.json"), "utf8") === readFileSync(join(ROOT, "package-lock.json"), "utf8");
  if (sameLock) {
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
    // the WASM extracts postinstall writes (a base commit may predate some of them)
    for (const script of ["extract-blake3-wasm.mjs", "build-blake3-simd.mjs", "extract-mlkem-wasm.mjs"]) {
      if (existsSync(join(dir, "scripts", script))) execFileSync(process.execPath, [join(dir, "scripts", script)], { cwd: dir, stdio: "inherit" });
    }
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

async function measure(side, round) {
  const step = (what) => steps.increment(1, `round ${round} ${side.label}: ${what}`);
  const p95 = {};
  const cpu = {};
  const shed = {};
  let rssMax = 0;
  let failureRate = 0;
  for (const spec of gate.latency.scenarios) {
    let latency;
    try {
      latency = await runScenario({ scenario: spec.scenario, rate: spec.rate, durationS: spec.duration_s, bundle: side.bundle });
    } catch (error) {
      // an older build without this service (edge, overlay) is compared on what it has
      progress.log(`${side.label}: scenario ${spec.scenario} not measured (${String(error.message).slice(0, 120)})`);
      step(`${spec.scenario} not measured`);
      continue;
    }
    step(spec.scenario);
    latency.client.close();
    await latency.target.mf.dispose();
    const { report } = latency;
    // a p95 over a handful of samples (1 MiB fetches at 3% of 40/s) is its maximum: noise, not a figure
    for (const r of report.routes) if (r.requests >= (gate.limits.p95_min_samples ?? 0)) p95[`${spec.scenario} ${r.route}`] = r.p95_ms;
    if (report.server.cpu_seconds !== null && report.totals.requests > 0) cpu[spec.scenario] = (report.server.cpu_seconds * 1000) / report.totals.requests;
    shed[spec.scenario] = report.totals.shed_rate ?? 0;
    rssMax = Math.max(rssMax, report.server.rss_max_bytes);
    failureRate = Math.max(failureRate, report.totals.failure_rate);
  }
  const throughput = await runScenario({ scenario: gate.throughput.scenario, max: true, connections: gate.throughput.connections, durationS: gate.throughput.duration_s, bundle: side.bundle });
  throughput.client.close();
  await throughput.target.mf.dispose();
  step("throughput");
  const cold = await measureColdStart(side.bundle, gate.cold_start_runs);
  step("cold start");
  return {
    p95_ms: p95,
    cpu_ms_per_request: cpu,
    shed_rate: shed,
    throughput_rps: throughput.report.totals.achieved_rps,
    rss_max_bytes: Math.max(rssMax, throughput.report.server.rss_max_bytes),
    cold_start_ms: cold.ready_ms.median,
    failure_rate: failureRate,
  };
}

function printVerdict(name, verdict) {
  console.log(`\n${name}:`);
  console.table(verdict.checks.map((c) => ({ metric: c.metric, base: Math.round(c.base * 1000) / 1000, head: Math.round(c.head * 1000) / 1000, change: c.metric.startsWith("shed rate") ? `${(c.change * 100).toFixed(2)} pp` : `${(c.change * 100).toFixed(1)}%`, limit: c.limit, ok: c.ok })));
  console.log(`${name}: ${verdict.ok ? "PASS" : "FAIL"}`);
}

let exitCode = 1;
try {
  const sides = [];
  const base = values.base ? build(checkout(values.base, "base"), "base") : null;
  if (base) sides.push(base);
  const baselineSameAsBase = stored && base && git("rev-parse", `${stored.commit}^{commit}`) === git("rev-parse", `${values.base}^{commit}`);
  const baseline = stored && !baselineSameAsBase ? build(checkout(stored.commit, "baseline"), "baseline") : null;
  if (baseline) sides.push(baseline);
  const head = build(values.head ? checkout(values.head, "head") : ROOT, "head");
  sides.push(head);
  const against = [base && `base ${values.base} (${base.commit})`, stored && `stored baseline ${values.baseline} (${stored.commit}, measured ${stored.measured_at.slice(0, 10)})`].filter(Boolean).join(" and ");
  console.log(`perf gate: head ${values.head ?? "working tree"} (${head.commit}) against ${against}, ${rounds} interleaved rounds`);
  const runs = Object.fromEntries(sides.map((s) => [s.label, []]));
  steps = progress.phase("measuring", rounds * sides.length * stepsPerSide, "steps");
  for (let round = 1; round <= rounds; round++) {
    for (const side of sides) {
      const result = await measure(side, round);
      runs[side.label].push(result);
      progress.log(`round ${round} ${side.label}: throughput ${result.throughput_rps} req/s, CPU ms/request ${JSON.stringify(result.cpu_ms_per_request)}, RSS ${(result.rss_max_bytes / 1048576).toFixed(1)} MiB, cold start ${result.cold_start_ms} ms`);
    }
  }
  const verdicts = {};
  if (base) verdicts.base = compareRuns(runs.base, runs.head, gate.limits);
  if (stored) verdicts.baseline = compareRuns(baseline ? runs.baseline : runs.base, runs.head, gate.limits);
  if (verdicts.base) printVerdict(`against base ${values.base}`, verdicts.base);
  if (verdicts.baseline) printVerdict(`against the stored baseline (${stored.commit})`, verdicts.baseline);
  const verdict = { ok: Object.values(verdicts).every((v) => v.ok) };
  progress.done(`${verdict.ok ? "PASS" : "FAIL"}: head ${head.commit} against ${against}, ${rounds} rounds${Object.values(verdicts).some((v) => !v.ok) ? `; failed: ${Object.values(verdicts).flatMap((v) => v.checks.filter((c) => !c.ok).map((c) => c.metric)).join(", ")}` : ""}`);
  console.log(verdict.ok ? "perf gate: PASS" : "perf gate: FAIL");
  const report = { kind: "perf-gate", started_at: new Date().toISOString(), machine: machineInfo(), base: base && { ref: values.base, commit: base.commit }, baseline: stored && { profile: values.baseline, commit: stored.commit }, head: { ref: values.head ?? "working tree", commit: head.commit }, gate, runs, verdicts };
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
