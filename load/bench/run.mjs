#!/usr/bin/env node
// npm run bench -- [--ms T] [--rounds N] [--out file]: microbenchmarks inside workerd (BENCH_ONLY=case,… runs some) (BLAKE3, GitHub webhook
// verification, capped gzip/zstd decode, OAP/1 encode/decode, Range parsing, a mailbox send at topic depth N, overlay handshakes classical
// vs hybrid, ML-KEM-768 encapsulation liboqs WASM vs noble), with BLAKE3 also compared to the native
// single-threaded `b3sum` where it is installed; the SIMD engine beside hash-wasm's module at 4 KiB–64 MiB
// with their ratio (and the ratio to a native build named by BLAKE3_NATIVE_BENCH, docs/PERFORMANCE.md).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { machineInfo, gitCommit } from "../driver/load.mjs";
import { round } from "../driver/stats.mjs";
import { MODULE_RULES, ROOT, bundleWorker, serve } from "../driver/targets.mjs";
import { createProgress } from "../../scripts/progress.mjs";

// --rounds N runs the whole plan N times, case after case (interleaved, so load from other work on
// the machine falls on every case alike), and reports each case's median ns/op with its range
const { values } = parseArgs({ options: { ms: { type: "string", default: "400" }, rounds: { type: "string", default: "1" }, out: { type: "string" } } });
const KIB = 1024;
const MIB = 1024 * KIB;
const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(",")) : null;
const plan = [
  ["blake3", [4 * KIB, 64 * KIB, MIB]],
  // hash-wasm's module and the SIMD engine, adjacent so each round measures them back to back
  ["blake3-hash-wasm", [4 * KIB, 64 * KIB, MIB, 64 * MIB]],
  ["blake3-simd", [4 * KIB, 64 * KIB, MIB, 64 * MIB]],
  ["webhook-verify-github", [4 * KIB, 64 * KIB]],
  ["identity-read-hash", [64 * KIB, MIB]],
  ["gzip-decode-capped", [64 * KIB, MIB]],
  ["zstd-decode-capped", [64 * KIB, MIB]],
  ["oap-encode", [1 * KIB, 64 * KIB]],
  ["oap-decode", [1 * KIB, 64 * KIB]],
  ["range-parse", [0]],
  ["mailbox-send", [10, 500, 5000]],
  ["token-verify", [0, 3, 8]],
  ["handshake-classical", [0]],
  ["handshake-hybrid", [0]],
  ["handshake-server-classical", [0]],
  ["handshake-server-hybrid", [0]],
  ["handshake-server-hybrid-noble", [0]],
  ["mlkem-encapsulate-wasm", [0]],
  ["mlkem-encapsulate-noble", [0]],
  ["server-timing", [0]],
];

/** Native b3sum MiB/s at `size`, single thread, process start-up subtracted. */
function b3sumMiBps(size) {
  if (spawnSync("b3sum", ["--version"]).status !== 0) return null;
  const dir = mkdtempSync(join(tmpdir(), "b3bench-"));
  const repeats = Math.max(1, Math.floor((256 * MIB) / size));
  const file = join(dir, "input");
  writeFileSync(file, Buffer.alloc(size, 7));
  const files = Array.from({ length: Math.min(repeats, 2000) }, () => file);
  const time = (args) => {
    const started = process.hrtime.bigint();
    execFileSync("b3sum", ["--num-threads", "1", "--no-mmap", ...args], { stdio: "ignore" });
    return Number(process.hrtime.bigint() - started) / 1e9;
  };
  const empty = join(dir, "empty");
  writeFileSync(empty, "");
  const base = Math.min(time([empty]), time([empty]));
  const total = Math.min(time(files), time(files));
  return (files.length * size) / MIB / Math.max(1e-6, total - base);
}

/**
 * Native BLAKE3 MiB/s by size from the program named in BLAKE3_NATIVE_BENCH (prints "<size> <MiB/s>"
 * lines; docs/PERFORMANCE.md says how the official C code was built for it), or null.
 */
function nativeBench() {
  const program = process.env.BLAKE3_NATIVE_BENCH;
  if (!program) return null;
  const lines = execFileSync(program, { encoding: "utf8" }).trim().split("\n");
  return new Map(lines.map((line) => line.split(/\s+/).map(Number)));
}

const bundle = bundleWorker({ config: "load/bench/wrangler.toml", outDir: join(ROOT, "load/.build/bench") });
const target = await serve({ name: "bench", modules: true, scriptPath: bundle, modulesRoot: dirname(bundle), modulesRules: MODULE_RULES, compatibilityDate: "2025-09-01", compatibilityFlags: ["nodejs_compat"] });
const results = [];
const rounds = Math.max(1, Number(values.rounds) || 1);
const progress = createProgress("bench");
const chosen = plan.filter(([name]) => !only || only.has(name));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  const samples = new Map(); // "name size" → ns/op per round
  const bar = progress.phase("cases", rounds * chosen.reduce((n, [, sizes]) => n + sizes.length, 0), "cases");
  for (let roundNo = 0; roundNo < rounds; roundNo++) {
    for (const [name, sizes] of chosen) {
      for (const size of sizes) {
        bar.increment(0, `round ${roundNo + 1}: ${name} ${size}`);
        const response = await fetch(`${target.url}/bench/${name}?size=${size}&ms=${values.ms}`);
        const r = await response.json();
        if (!response.ok) throw new Error(JSON.stringify(r));
        const key = `${name} ${size}`;
        if (!samples.has(key)) samples.set(key, { name, size, ns: [], iterations: 0, hasRate: r.mib_per_s !== null });
        const sample = samples.get(key);
        sample.ns.push(r.ns_per_op);
        sample.iterations += r.iterations;
        bar.increment(1, `round ${roundNo + 1}: ${name} ${size}`);
      }
    }
  }
  for (const { name, size, ns, iterations, hasRate } of samples.values()) {
    const nsPerOp = median(ns);
    const row = { case: name, size, ns_per_op: round(nsPerOp, 1), mib_per_s: hasRate ? round(size / MIB / (nsPerOp / 1e9), 1) : null, iterations };
    if (rounds > 1) Object.assign(row, { rounds, ns_min: round(Math.min(...ns), 1), ns_max: round(Math.max(...ns), 1) });
    if (name === "blake3" || name === "blake3-simd") {
      const native = b3sumMiBps(size);
      row.b3sum_mib_per_s = native === null ? null : round(native, 1);
      row.ratio_to_b3sum = native === null ? null : round(row.mib_per_s / native, 3);
    }
    results.push(row);
  }
} finally {
  await target.mf.dispose();
}
// the hybrid key exchange's cost over classical, for the whole handshake and the server's share
const perOp = (name) => results.find((r) => r.case === name)?.ns_per_op;
const overhead = (hybrid, classical) => round((perOp(hybrid) / perOp(classical) - 1) * 100, 1);
const handshake = {
  full_overhead_pct: overhead("handshake-hybrid", "handshake-classical"),
  server_overhead_pct: overhead("handshake-server-hybrid", "handshake-server-classical"),
  /** the server's hybrid share as it was with the clients' pure-JS ML-KEM (@noble/post-quantum) */
  server_overhead_noble_pct: overhead("handshake-server-hybrid-noble", "handshake-server-classical"),
};
console.table(results);
// the SIMD engine against hash-wasm's module, size by size, from the same run
const native = results.some((r) => r.case === "blake3-simd") ? nativeBench() : null;
const blake3Simd = results.filter((r) => r.case === "blake3-simd").map((r) => {
  const base = results.find((b) => b.case === "blake3-hash-wasm" && b.size === r.size);
  const nativeMiBps = native?.get(r.size) ?? null;
  return {
    size: r.size,
    simd_mib_per_s: r.mib_per_s,
    hash_wasm_mib_per_s: base?.mib_per_s ?? null,
    ratio: base ? round(base.ns_per_op / r.ns_per_op, 2) : null,
    native_mib_per_s: nativeMiBps,
    ratio_to_native: nativeMiBps ? round(r.mib_per_s / nativeMiBps, 3) : null,
  };
});
if (blake3Simd.length) {
  console.log("BLAKE3 SIMD engine vs hash-wasm (same run):");
  console.table(blake3Simd);
}
if (Number.isFinite(handshake.full_overhead_pct)) console.log(`hybrid handshake overhead over classical: ${handshake.full_overhead_pct}% (both ends), ${handshake.server_overhead_pct}% (server share; ${handshake.server_overhead_noble_pct}% with noble's pure-JS ML-KEM)`);
const report = { kind: "bench", started_at: new Date().toISOString(), commit: gitCommit(), machine: machineInfo(), results, handshake, blake3_simd_vs_hash_wasm: blake3Simd };
const out = values.out ?? join(ROOT, "load/reports", `bench-${report.started_at.replace(/[:.]/g, "-")}.json`);
execFileSync("mkdir", ["-p", join(ROOT, "load/reports")]);
writeFileSync(out, JSON.stringify(report, null, 2));
progress.done(`${results.length} cases × ${rounds} round${rounds === 1 ? "" : "s"}${Number.isFinite(handshake.full_overhead_pct) ? `, hybrid handshake +${handshake.full_overhead_pct}%` : ""}, report ${out}`);
console.log(`report: ${out}`);
