#!/usr/bin/env node
// node load/rss-by-route.mjs [--requests 1500] [--connections 8] [--kinds get,put-identity,…] [--inspect 8823] [--var NAME=VALUE ...]
// Which kind of request leaves memory behind in workerd? Each kind runs alone on a fresh micronode
// (127.0.0.1): `--requests` of it, `--connections` in flight, workerd's RSS sampled as it goes,
// then a full GC through the inspector and RSS again. Prints KiB of RSS per request before and
// after the GC: memory a GC gives back was garbage V8 had not collected yet (native memory it did
// not know about); memory it keeps is retained. Kinds: get (hot objects), put-identity, put-gzip,
// put-zstd (PUT bodies of 4 KiB – 1 MiB, as the mixed scenario sends), webhook (signed GitHub).
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { closedLoop, createClient } from "./driver/engine.mjs";
import { loadDefinitions, seedHotObjects } from "./driver/load.mjs";
import { ROOT, bundleWorker, micronodeOptions, rssBytes, serve } from "./driver/targets.mjs";
import { WEBHOOK_SECRET, pick, preparePutPool, prepareWebhookBodies, signGithub } from "./driver/traffic.mjs";
import { openHeapReader } from "./profile/inspector.mjs";

const KINDS = ["get", "put-identity", "put-gzip", "put-zstd", "webhook"];
const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "1500" },
    connections: { type: "string", default: "8" },
    kinds: { type: "string", default: KINDS.join(",") },
    inspect: { type: "string", default: "8823" },
    var: { type: "string", multiple: true, default: [] },
    bundle: { type: "string" },
  },
});
const requests = Number(values.requests);
const kinds = values.kinds.split(",");
for (const k of kinds) if (!KINDS.includes(k)) throw new Error(`unknown kind ${k}; known: ${KINDS.join(", ")}`);
const definitions = loadDefinitions();
const { $comment: _why, ...targetVars } = definitions.target_vars;
const vars = { GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET, ...targetVars, ...Object.fromEntries(values.var.map((v) => [v.slice(0, v.indexOf("=")), v.slice(v.indexOf("=") + 1)])) };
const bundle = values.bundle ?? bundleWorker({ outDir: join(ROOT, "load/.build/micronode") });
const mib = (b) => Math.round((b / 1048576) * 10) / 10;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const putSizes = definitions.scenarios.mixed.mix.find((m) => m.route === "POST /put").payload_bytes;
const pool = await preparePutPool(putSizes, ["identity", "gzip", "zstd"], definitions.put_payloads.variants);
const puts = (encoding) => [...pool.values()].flat().filter((p) => p.encoding === encoding);
const hooks = prepareWebhookBodies([512, 4096, 16384]).map((body) => ({ body, signature: signGithub(body) }));

const rows = [];
for (const kind of kinds) {
  const target = await serve(micronodeOptions(bundle, vars), { inspectorPort: Number(values.inspect) });
  const client = createClient(target.url, 64);
  const heap = await openHeapReader({ port: Number(values.inspect) });
  try {
    const hot = await seedHotObjects(client, target.url, definitions.hot_objects);
    const next = {
      get: () => ({ route: kind, method: "GET", path: `/o/${pick(hot)}`, headers: {} }),
      "put-identity": () => ({ route: kind, method: "POST", path: "/put", ...pick(puts("identity")) }),
      "put-gzip": () => ({ route: kind, method: "POST", path: "/put", ...pick(puts("gzip")) }),
      "put-zstd": () => ({ route: kind, method: "POST", path: "/put", ...pick(puts("zstd")) }),
      webhook: () => {
        const { body, signature } = pick(hooks);
        return { route: kind, method: "POST", path: "/webhooks/github", body, headers: { "content-type": "application/json", "x-github-event": "push", "x-github-delivery": randomUUID(), "x-hub-signature-256": signature } };
      },
    }[kind];
    // warm-up: every distinct body stored once, JIT settled
    await closedLoop({ client, next, connections: Number(values.connections), durationS: 2, record: () => {} });
    await heap.usage();
    await sleep(500);
    const start = rssBytes(target.pid);
    let sent = 0;
    let failed = 0;
    const curve = [];
    // exactly `requests` of this kind, `connections` in flight
    const worker = async () => {
      while (sent < requests) {
        sent++;
        const result = await client.send(next());
        if (result.error || result.status >= 400) failed++;
        if (sent % 250 === 0) curve.push(mib(rssBytes(target.pid)));
      }
    };
    await Promise.all(Array.from({ length: Number(values.connections) }, worker));
    const end = rssBytes(target.pid);
    const usage = await heap.usage();
    await sleep(2000);
    const afterGc = rssBytes(target.pid);
    const row = { kind, requests: sent, failed, rss_start_mib: mib(start), rss_end_mib: mib(end), rss_after_gc_mib: mib(afterGc), heap_total_mib: usage?.totalSize ? mib(usage.totalSize) : null, heap_after_gc_mib: usage?.collected ? mib(usage.collected) : null, kib_per_request: Math.round(((end - start) / 1024 / sent) * 10) / 10, kib_per_request_after_gc: Math.round(((afterGc - start) / 1024 / sent) * 10) / 10, curve };
    rows.push(row);
    console.log(JSON.stringify(row));
  } finally {
    heap.close();
    client.close();
    await target.mf.dispose();
  }
}
console.table(rows.map(({ curve: _c, ...r }) => r));
process.exit(0); // the inspector socket and the HTTP agent would keep node alive
