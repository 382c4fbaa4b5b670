#!/usr/bin/env node
// node load/audit-calls.mjs [--bundle path] [--puts N] [--concurrency C] [--var NAME=VALUE ...]
// Background Durable Object calls per PUT (issue 12): serves micronode on 127.0.0.1, sends N PUTs
// of 4 KiB with C in flight, then reads background_batches_total{kind} from /metrics (absent in
// builds before batching: one call per record) and workerd's CPU per PUT, and checks /audit/verify.
// --var PUT_NOTIFY=true adds the put notifications.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ROOT, authHeaders, bundleWorker, cpuSeconds, micronodeOptions, serve } from "./driver/targets.mjs";

const { values } = parseArgs({
  options: {
    bundle: { type: "string" },
    puts: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "32" },
    var: { type: "string", multiple: true, default: [] },
  },
});
const vars = Object.fromEntries(values.var.map((v) => [v.slice(0, v.indexOf("=")), v.slice(v.indexOf("=") + 1)]));
const targetVars = JSON.parse(readFileSync(join(ROOT, "load/scenarios.json"), "utf8")).target_vars;
delete targetVars.EDGE_PACKS;
const bundle = values.bundle ?? bundleWorker({ outDir: join(ROOT, "load/.build/audit-calls") });
const target = await serve(micronodeOptions(bundle, { ...targetVars, ...vars }));
const metric = async (name) => {
  const text = await (await fetch(`${target.url}/metrics`, { headers: authHeaders() })).text();
  // every series carries the isolate label: match without it
  const match = new RegExp(`^${name.replace(/[{}]/g, "\\$&")} (\\d+)$`, "m").exec(text.replace(/\{isolate="[0-9a-f]+"\}|,isolate="[0-9a-f]+"/g, ""));
  return match ? Number(match[1]) : null;
};
try {
  const puts = Number(values.puts);
  const put = () => fetch(`${target.url}/put`, { method: "POST", body: crypto.getRandomValues(new Uint8Array(4096)), headers: authHeaders({ "content-type": "application/octet-stream" }) });
  for (let i = 0; i < 20; i++) await (await put()).arrayBuffer(); // warm-up
  const audits = 'background_batches_total{kind="audit"}';
  const notices = 'background_batches_total{kind="put_notify"}';
  const batchesBefore = await metric(audits);
  const noticesBefore = await metric(notices);
  const cpuBefore = cpuSeconds(target.pid);
  const started = performance.now();
  let sent = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: Number(values.concurrency) }, async () => {
      while (sent < puts) {
        sent++;
        const response = await put();
        await response.arrayBuffer();
        if (response.status >= 300) failed++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 200)); // let the last batches land
  const cpu = cpuSeconds(target.pid) - cpuBefore;
  const batchesAfter = await metric(audits);
  const calls = batchesBefore === null ? null : batchesAfter - batchesBefore;
  const notify = vars.PUT_NOTIFY === "true";
  const noticeCalls = !notify ? 0 : calls === null ? puts : ((await metric(notices)) ?? 0) - (noticesBefore ?? 0);
  const verify = await (await fetch(`${target.url}/audit/verify`, { headers: authHeaders() })).json();
  const drops = await metric("audit_drop_total");
  console.log(
    JSON.stringify({
      puts,
      failed,
      put_per_s: Math.round(puts / seconds),
      audit_calls: calls ?? puts,
      put_notify_calls: noticeCalls,
      source: calls === null ? "no background_batches_total: one call per record" : "background_batches_total",
      records_per_audit_call: Math.round((puts / (calls ?? puts)) * 100) / 100,
      background_calls_per_put: Math.round((((calls ?? puts) + noticeCalls) / puts) * 1000) / 1000,
      workerd_cpu_ms_per_put: Math.round((cpu * 1000 * 1000) / puts) / 1000,
      verify_ok: verify.ok,
      audit_drop_total: drops,
      vars,
    }),
  );
} finally {
  await target.mf.dispose();
}
