#!/usr/bin/env node
// npm run perf:bisect -- --good <ref> --bad <ref> [--scenario mixed] [--rate 150] [--duration 8]
//                        [--rounds 3] [--points 7] [--threshold 0.03] [--max-commits 16] [--out file]
//                        [--commits a,b,c] [--var NAME=VALUE ...]
// --commits measures just those commits (any, in the order given), interleaved, e.g. the range's
// ends next to today's main: --commits 2ab385b,482a9ca,main,HEAD.
// Where did the cost of a scenario come from between two commits? Walks the first-parent history
// from --good to --bad, builds each commit it measures (its own temporary git worktree), and
// measures the micronode bundle under the scenario at a fixed rate below the knee: workerd's user-
// space instructions per request (perf stat, when the kernel lets us count them) and CPU ms per
// request. Instructions do not depend on the clock speed or on what else runs on the machine, so
// they are the robust figure on a shared 2-core box; CPU time is kept as the check.
//
// Drift that adds up over many steps is not one bad commit, so this is not a binary search: it
// measures --points commits spread evenly over the range, then splits every segment whose ends
// differ by more than --threshold (relative) at its middle commit, until no such segment has a
// commit inside or --max-commits have been measured. Each pass measures its commits interleaved
// (A B C … then the reverse), --rounds times, with the same request sequence for every commit
// (Math.random seeded before each run), and a segment's ends are always re-measured with its
// middle, so every comparison is made within one pass. Prints and writes the table: commit, subject,
// instructions and CPU per request (median), change from the previous commit measured.
//
// Brownout and the in-flight cap are lifted on the target (--var adds or overrides knobs): a run
// on a busy machine that sheds writes would look cheaper per request than one that served them.
// A run with more than 1% failures is reported and left out of the medians.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os, { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { machineInfo, runScenario } from "../driver/load.mjs";
import { ROOT, bundleWorker } from "../driver/targets.mjs";
import { segmentsToSplit, spreadPoints } from "./bisect-plan.mjs";
import { seeded } from "../driver/seeded.mjs";

const { values } = parseArgs({
  options: {
    good: { type: "string" },
    bad: { type: "string", default: "HEAD" },
    scenario: { type: "string", default: "mixed" },
    rate: { type: "string", default: "150" },
    duration: { type: "string", default: "8" },
    rounds: { type: "string", default: "3" },
    points: { type: "string", default: "7" },
    threshold: { type: "string", default: "0.03" },
    "max-commits": { type: "string", default: "16" },
    commits: { type: "string" },
    var: { type: "string", multiple: true, default: [] },
    out: { type: "string" },
  },
});
if (!values.good && !values.commits) {
  console.error("usage: npm run perf:bisect -- --good <ref> --bad <ref> [--scenario mixed] [--rate 150] [--duration 8] [--rounds 3] [--points 7] [--threshold 0.03] [--max-commits 16] [--commits a,b,c]");
  process.exit(2);
}
const opts = { rate: Number(values.rate), durationS: Number(values.duration), rounds: Number(values.rounds), points: Number(values.points), threshold: Number(values.threshold), maxCommits: Number(values["max-commits"]) };
for (const [name, n] of Object.entries(opts)) {
  if (!(Number.isFinite(n) && n > 0)) {
    console.error(`--${name} must be a positive number`);
    process.exit(2);
  }
}

// what sheds under a busy machine is lifted, so every run serves the same requests
const vars = { BROWNOUT_P95_MS: "600000", BROWNOUT_ERROR_RATE: "1", MAX_INFLIGHT: "100000", ...Object.fromEntries(values.var.map((v) => [v.slice(0, v.indexOf("=")), v.slice(v.indexOf("=") + 1)])) };
const MAX_FAILURE_RATE = 0.01;
const git = (...args) => execFileSync("git", args, { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] }).toString().trim();
// oldest first: good, every first-parent commit after it, bad
const history = values.good ? [git("rev-parse", "--short", `${values.good}^{commit}`), ...git("log", "--first-parent", "--reverse", "--format=%h", `${values.good}..${values.bad}`).split("\n").filter(Boolean)] : [];
const subjects = new Map(history.map((c) => [c, git("log", "-1", "--format=%s", c)]));
const scratch = mkdtempSync(join(tmpdir(), "ron-bisect-"));
const builds = new Map(); // commit → bundle path
const worktrees = [];
const samples = new Map(); // commit → [{ instructions, cpu_ms }] per request
const perfWorks = canCountInstructions();

/** The bundle of `commit`, built once, in a worktree sharing this checkout's node_modules when the runtime dependencies are the same. */
function build(commit) {
  if (builds.has(commit)) return builds.get(commit);
  const dir = join(scratch, commit);
  git("worktree", "add", "--detach", dir, commit);
  worktrees.push(dir);
  const dependencies = (root) => JSON.parse(readFileSync(join(root, "package.json"), "utf8")).dependencies ?? {};
  const [ours, theirs] = [dependencies(ROOT), dependencies(dir)];
  // every runtime dependency pinned at the same version as here: the bundle is what npm ci would give
  if (Object.entries(theirs).every(([name, version]) => ours[name] === version)) {
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
    for (const script of ["extract-blake3-wasm.mjs", "extract-mlkem-wasm.mjs"]) {
      if (existsSync(join(dir, "scripts", script))) execFileSync(process.execPath, [join(dir, "scripts", script)], { cwd: dir, stdio: "ignore" });
    }
  } else {
    execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: dir, stdio: "inherit", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
  }
  const bundle = bundleWorker({ root: dir, outDir: join(scratch, `build-${commit}`) });
  builds.set(commit, bundle);
  return bundle;
}

/** perf present and the CPU's counters visible (a VM often has none: "<not supported>"). */
function canCountInstructions() {
  const run = spawnSync("perf", ["stat", "-x,", "-e", "instructions:u", "true"], { encoding: "utf8" });
  return !run.error && Number(String(run.stderr).split(",")[0]) > 0;
}

/** `perf stat` attached to `pid`; `stop()` resolves with the user-space instructions counted. */
function countInstructions(pid) {
  const child = spawn("perf", ["stat", "-x,", "-e", "instructions:u", "-p", String(pid)], { stdio: ["ignore", "ignore", "pipe"] });
  let text = "";
  child.stderr.on("data", (d) => (text += d));
  const ended = new Promise((resolve) => child.on("close", resolve));
  return {
    async stop() {
      child.kill("SIGINT");
      await ended;
      const line = text.split("\n").find((l) => l.includes("instructions"));
      const n = Number(line?.split(",")[0]);
      return Number.isFinite(n) ? n : null;
    },
  };
}


async function measureOnce(commit) {
  const bundle = build(commit);
  Math.random = seeded(12);
  let counter = null;
  const { report, target, client } = await runScenario({
    scenario: values.scenario,
    rate: opts.rate,
    durationS: opts.durationS,
    bundle,
    vars,
    onMeasure: (t) => {
      if (perfWorks && t.pid) counter = countInstructions(t.pid);
    },
  });
  const instructions = counter ? await counter.stop() : null;
  client.close();
  await target.mf.dispose();
  const requests = report.totals.requests;
  const sample = {
    valid: report.totals.failures <= requests * MAX_FAILURE_RATE,
    instructions: instructions === null ? null : instructions / requests,
    cpu_ms: report.server.cpu_seconds === null ? null : (report.server.cpu_seconds * 1000) / requests,
    requests,
    failures: report.totals.failures,
    load_average: os.loadavg()[0],
  };
  (samples.get(commit) ?? samples.set(commit, []).get(commit)).push(sample);
  const fmt = sample.instructions === null ? "n/a" : `${(sample.instructions / 1e6).toFixed(3)} M`;
  console.log(`  ${commit}: ${fmt} instructions/request, ${sample.cpu_ms?.toFixed(3)} ms CPU/request, ${requests} requests, ${sample.failures} failed, load ${sample.load_average.toFixed(2)}${sample.valid ? "" : " (left out: failures)"}`);
}

/** Interleaved passes over `commits`: forward, then backward, … (`rounds` in all). */
async function measurePass(commits) {
  for (const c of commits) build(c);
  for (let round = 0; round < opts.rounds; round++) {
    console.log(`pass over ${commits.length} commits, round ${round + 1}/${opts.rounds}`);
    for (const c of round % 2 === 0 ? commits : [...commits].reverse()) await measureOnce(c);
  }
}

const median = (xs) => {
  const s = xs.filter((x) => x !== null).sort((a, b) => a - b);
  if (s.length === 0) return null;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const valid = (c) => (samples.get(c) ?? []).filter((s) => s.valid);
const metric = (c) => median(valid(c).map((s) => (perfWorks ? s.instructions : s.cpu_ms)));

function removeWorktrees() {
  for (const dir of worktrees.splice(0)) {
    try {
      git("worktree", "remove", "--force", dir);
    } catch {
      // already gone
    }
  }
  rmSync(scratch, { recursive: true, force: true });
}
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => (removeWorktrees(), process.exit(130)));

let exitCode = 1;
try {
  console.log(`perf bisect: ${values.scenario} at ${opts.rate}/s for ${opts.durationS} s, ${values.commits ? `commits ${values.commits}` : `${history.length} first-parent commits ${history[0]}..${history.at(-1)}`}; measure: ${perfWorks ? "user-space instructions per request (perf stat)" : "workerd CPU ms per request (perf stat unavailable)"}`);
  let order = history; // the table's rows: measured commits in this order
  if (values.commits) {
    // any commits, in the order given (e.g. good, bad, and later ones such as main and a branch)
    const chosen = values.commits.split(",").map((c) => git("rev-parse", "--short", `${c}^{commit}`));
    for (const c of chosen) if (!subjects.has(c)) subjects.set(c, git("log", "-1", "--format=%s", c));
    order = chosen;
    await measurePass(chosen);
  } else {
    await measurePass(spreadPoints(history, opts.points));
    for (;;) {
      const splits = segmentsToSplit(history, samples, metric, opts.threshold);
      if (splits.length === 0 || samples.size >= opts.maxCommits) break;
      const room = opts.maxCommits - samples.size;
      const pass = [...new Set(splits.slice(0, room).flat())].sort((x, y) => history.indexOf(x) - history.indexOf(y));
      console.log(`splitting ${splits.length} segment(s) over ${opts.threshold * 100}%: ${splits.map(([a, m, b]) => `${a}..${m}..${b}`).join(", ")}`);
      await measurePass(pass);
    }
  }
  const rows = [];
  let previous = null;
  for (const c of order.filter((h) => samples.has(h))) {
    const s = valid(c);
    const row = {
      commit: c,
      subject: subjects.get(c).slice(0, 70),
      instructions_per_request: median(s.map((x) => x.instructions)),
      cpu_ms_per_request: median(s.map((x) => x.cpu_ms)),
      runs: s.length,
      left_out: samples.get(c).length - s.length,
      change: previous === null || metric(previous) === null ? null : (metric(c) - metric(previous)) / metric(previous),
    };
    rows.push(row);
    previous = c;
  }
  console.table(rows.map((r) => ({ commit: r.commit, "M instr/req": r.instructions_per_request === null ? "n/a" : (r.instructions_per_request / 1e6).toFixed(3), "CPU ms/req": r.cpu_ms_per_request?.toFixed(3), runs: r.runs, "left out": r.left_out, change: r.change === null ? "" : `${(r.change * 100).toFixed(1)}%`, subject: r.subject })));
  const report = { kind: "perf-bisect", started_at: new Date().toISOString(), machine: machineInfo(), good: values.good, bad: values.bad, scenario: values.scenario, ...opts, measure: perfWorks ? "instructions:u per request" : "cpu ms per request", vars, rows, samples: Object.fromEntries(samples) };
  const out = values.out ?? join(ROOT, "load/reports", `bisect-${report.started_at.replace(/[:.]/g, "-")}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2));
  console.log(`report: ${out}`);
  exitCode = 0;
} catch (error) {
  console.error(error);
} finally {
  removeWorktrees();
}
process.exit(exitCode);
