#!/usr/bin/env node
// npm run load -- <scenario> [--rate N | --max] [--duration S] [--connections N] [--out file]
//                 [--var NAME=VALUE ...] [--no-ceiling] [--bundle path] [--inspect PORT] [--cold-start N]
// Serves micronode with Miniflare on 127.0.0.1, drives the scenario, and writes a JSON and an
// HTML report (default load/reports/<scenario>-<time>.{json,html}). Exits 1 when a fixed-rate run
// misses the SLO, or any run passes the workerd RSS ceiling.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { createProgress } from "../../scripts/progress.mjs";
import { measureColdStart } from "./cold-start.mjs";
import { loadDefinitions, measureCeiling, p95LimitOf, runScenario } from "./load.mjs";
import { renderHtml } from "./report-html.mjs";
import { ROOT, bundleSize, bundleWorker } from "./targets.mjs";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rate: { type: "string" },
    max: { type: "boolean", default: false },
    duration: { type: "string" },
    connections: { type: "string" },
    out: { type: "string" },
    var: { type: "string", multiple: true, default: [] },
    "no-ceiling": { type: "boolean", default: false },
    bundle: { type: "string" },
    inspect: { type: "string" },
    "cold-start": { type: "string", default: "3" },
    "client-rtt": { type: "string" },
    jitter: { type: "string" },
  },
});
const scenario = positionals[0];
if (!scenario) {
  console.error("usage: npm run load -- <scenario> [--rate N|--max] [--duration S] [--client-rtt MS [--jitter MS]] [--out file]");
  process.exit(2);
}
const vars = Object.fromEntries(values.var.map((v) => [v.slice(0, v.indexOf("=")), v.slice(v.indexOf("=") + 1)]));

const progress = createProgress(`load ${scenario}`);
const buildDir = join(ROOT, "load/.build/micronode");
const bundle = values.bundle ?? bundleWorker({ outDir: buildDir });
const { report, target, client } = await runScenario({
  scenario,
  rate: values.rate ? Number(values.rate) : undefined,
  max: values.max,
  durationS: values.duration ? Number(values.duration) : undefined,
  connections: values.connections ? Number(values.connections) : undefined,
  bundle,
  vars,
  inspectorPort: values.inspect ? Number(values.inspect) : undefined,
  clientRttMs: values["client-rtt"] !== undefined ? Number(values["client-rtt"]) : undefined,
  jitterMs: values.jitter !== undefined ? Number(values.jitter) : undefined,
  progress,
});
client.close();
await target.mf.dispose();
report.bundle = bundleSize(dirname(bundle));
if (Number(values["cold-start"]) > 0) report.cold_start = await measureColdStart(bundle, Number(values["cold-start"]), progress);
if (!values["no-ceiling"]) {
  report.ceiling = await measureCeiling({ durationS: Math.min(report.duration_s, 10), connections: values.max ? (Number(values.connections) || 32) : 32, progress });
  report.ceiling.ratio = Math.round((report.totals.achieved_rps / report.ceiling.rps) * 1000) / 1000;
}

const out = values.out ?? join(ROOT, "load/reports", `${scenario}-${report.started_at.replace(/[:.]/g, "-")}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(report, null, 2));
const html = out.replace(/\.json$/, "") + ".html";
// the SLO lines drawn are the limits the run was judged by (inter-region ones with --client-rtt)
const definitions = loadDefinitions();
const sloP95Ms = Object.fromEntries(Object.keys(definitions.slo.p95_ms).map((route) => [route, p95LimitOf(definitions, route, report.network ?? null)]));
writeFileSync(html, renderHtml(report, { sloP95Ms }));

const missed = (report.slo?.checks ?? [report.server.rss_ceiling]).filter((c) => !c.ok);
progress.done(`${report.totals.requests} requests at ${report.totals.achieved_rps} req/s, failures ${(report.totals.failure_rate * 100).toFixed(3)}%, worst p95 ${Math.round(Math.max(0, ...report.routes.map((r) => r.p95_ms)))} ms, ${missed.length ? `MISS ${missed.map((c) => c.what).join(", ")}` : report.slo ? "SLO met" : "RSS ceiling ok"}`);
console.log(`\n${report.scenario} — ${report.mode}, ${report.duration_s} s, commit ${report.commit}`);
console.table(report.routes.map(({ route, requests, rps, p50_ms, p95_ms, p99_ms, max_ms, failure_rate, shed_rate }) => ({ route, requests, rps, p50_ms, p95_ms, p99_ms, max_ms, failure_rate, shed_rate })));
console.log(`achieved ${report.totals.achieved_rps} req/s, failures ${(report.totals.failure_rate * 100).toFixed(3)}%, workerd RSS max ${(report.server.rss_max_bytes / 1048576).toFixed(1)} MiB, CPU ${report.server.cpu_seconds} s (generator ${report.generator.cpu_seconds} s)`);
if (report.gossip) {
  const g = report.gossip;
  console.log(`gossip: ${g.delivered} of ${g.expected} deliveries arrived (${g.missing} missing, ${g.duplicated} duplicated; drain ${g.drain_ms} ms), ${Math.round(g.delivered / report.generator.elapsed_s)} deliveries/s; subscribers were told of ${g.told_missed} skipped and ${g.evictions} evictions; service counted ${g.server.delivered} written, dropped ${JSON.stringify(g.server.dropped)}`);
}
if (report.network) {
  const trips = Object.entries(report.network.round_trips).map(([kind, r]) => `${kind} ${r.round_trips}`).join(", ");
  console.log(`client network: RTT ${report.network.client_rtt_ms} ms, jitter ${report.network.jitter_ms} ms (latency proxy); round trips per request: ${trips}`);
}
if (report.cold_start) console.log(`cold start (process launch → first /readyz 200): median ${report.cold_start.ready_ms.median} ms over ${report.cold_start.runs} runs; first request ${report.cold_start.first_request_ms.median} ms; bundle ${report.bundle.raw_bytes} B raw / ${report.bundle.gzip_bytes} B gzip`);
if (report.ceiling) console.log(`hello-world ceiling ${report.ceiling.rps} req/s → ratio ${report.ceiling.ratio}`);
if (!report.slo) console.log(`${report.server.rss_ceiling.ok ? "ok  " : "MISS"} ${report.server.rss_ceiling.what}: ${report.server.rss_ceiling.actual} (limit ${report.server.rss_ceiling.limit})`);
if (report.slo) for (const c of report.slo.checks) console.log(`${c.ok ? "ok  " : "MISS"} ${c.what}: ${c.actual} (limit ${c.limit})`);
console.log(`reports: ${out}\n         ${html}`);
process.exit((report.slo && !report.slo.ok) || !report.server.rss_ceiling.ok ? 1 : 0);
