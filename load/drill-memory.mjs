#!/usr/bin/env node
// node load/drill-memory.mjs [--requests 1200] [--rounds 4] [--in-flight 8] [--cases refused,refused-conns,new-keys,known-keys,burst]
// What does a limiter drill leave in workerd's memory: each refused request, each connection, or
// each new client key? Each case runs on a fresh micronode (127.0.0.1) with the soak's limiter
// (RATE_LIMIT_KEY=header:x-load-client, 40/s, burst 20) and sends `--requests` GETs of a missing
// object (admitted → 404, refused → 429) per round, `--rounds` times, `--in-flight` at a time:
//   refused        one client key, whose bucket is empty: 429s over keep-alive connections
//   refused-conns  the same, but every request on a new connection (no keep-alive)
//   new-keys       a new client key per request (a new RateLimiter object each), keep-alive: 404s
//   known-keys     64 client keys in turn, each well under its bucket, keep-alive: 404s (the same
//                  work as new-keys without new objects)
//   burst          the soak's drill shape: one client key, all of a round's requests at once, each
//                  on its own new connection
// RSS after each round: growth in every round is a leak per unit; growth in the first round only
// is a working set (or a high-water mark of what was alive at once) that later rounds reuse.
// What it found is in docs/PERFORMANCE.md, Soak.
import http from "node:http";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadDefinitions } from "./driver/load.mjs";
import { ROOT, bundleWorker, micronodeOptions, rssBytes, rssParts, serve } from "./driver/targets.mjs";

const CASES = ["refused", "refused-conns", "new-keys", "known-keys", "burst"];
const CLIENT_HEADER = "x-load-client";
const MISSING = `/o/b3:${"e".repeat(64)}`;
const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "1200" },
    rounds: { type: "string", default: "4" },
    "in-flight": { type: "string", default: "8" },
    cases: { type: "string", default: CASES.join(",") },
    bundle: { type: "string" },
    var: { type: "string", multiple: true, default: [] },
  },
});
const requests = Number(values.requests);
const rounds = Number(values.rounds);
const inFlight = Number(values["in-flight"]);
const cases = values.cases.split(",");
for (const c of cases) if (!CASES.includes(c)) throw new Error(`unknown case ${c}; known: ${CASES.join(", ")}`);
const definitions = loadDefinitions();
const { $comment: _why, ...targetVars } = definitions.target_vars;
const extraVars = Object.fromEntries(values.var.map((v) => [v.slice(0, v.indexOf("=")), v.slice(v.indexOf("=") + 1)]));
const vars = { ...targetVars, RATE_LIMIT_KEY: `header:${CLIENT_HEADER}`, RATE_LIMIT_RPS: "40", RATE_LIMIT_BURST: "20", ...extraVars };
const bundle = values.bundle ?? bundleWorker({ outDir: join(ROOT, "load/.build/micronode") });
const mib = (b) => Math.round((b / 1048576) * 10) / 10;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One GET; resolves with its status (or the error code). `agent: false` opens a connection of its own. */
function get(url, key, agent) {
  return new Promise((resolve) => {
    const req = http.request({ host: url.hostname, port: url.port, path: MISSING, headers: { [CLIENT_HEADER]: key }, agent, timeout: 30_000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "timeout" })));
    req.on("error", (e) => resolve(e.code ?? "error"));
    req.end();
  });
}

const rows = [];
for (const name of cases) {
  const target = await serve(micronodeOptions(bundle, vars));
  const url = new URL(target.url);
  const keepAlive = new http.Agent({ keepAlive: true, maxSockets: inFlight });
  let turn = 0;
  const send = {
    refused: () => get(url, "drill", keepAlive),
    "refused-conns": () => get(url, "drill", false),
    "new-keys": () => get(url, `new-${turn++}`, keepAlive),
    "known-keys": () => get(url, `known-${turn++ % 64}`, keepAlive),
    burst: () => get(url, "drill", false),
  }[name];
  const inParallel = name === "burst" ? requests : inFlight;
  try {
    // warm-up: the route, the limiter object of the drill key (emptied), JIT
    for (let i = 0; i < 100; i++) await get(url, i < 50 ? "drill" : `warm-${i}`, keepAlive);
    await sleep(1000);
    const start = rssBytes(target.pid);
    const perRound = [];
    const partsPerRound = []; // anon/file/shmem MiB
    const counts = {};
    for (let round = 0; round < rounds; round++) {
      let sent = 0;
      const worker = async () => {
        while (sent < requests) {
          sent++;
          const status = await send();
          counts[status] = (counts[status] ?? 0) + 1;
        }
      };
      await Promise.all(Array.from({ length: Math.min(inParallel, requests) }, worker));
      await sleep(1000);
      const parts = rssParts(target.pid);
      perRound.push(mib(rssBytes(target.pid)));
      partsPerRound.push(`${mib(parts.anon)}/${mib(parts.file)}/${mib(parts.shmem)}`);
    }
    const end = rssBytes(target.pid);
    const row = { case: name, requests_per_round: requests, rounds, rss_start_mib: mib(start), rss_per_round_mib: perRound, anon_file_shmem_per_round_mib: partsPerRound, kib_per_request: Math.round(((end - start) / 1024 / (requests * rounds)) * 10) / 10, kib_per_request_after_round_1: rounds > 1 ? Math.round((((end - perRound[0] * 1048576) / 1024) / (requests * (rounds - 1))) * 10) / 10 : null, statuses: counts };
    rows.push(row);
    console.log(JSON.stringify(row));
  } finally {
    keepAlive.destroy();
    await target.mf.dispose();
  }
}
console.table(rows.map(({ statuses: _s, rss_per_round_mib, ...r }) => ({ ...r, rounds_mib: rss_per_round_mib.join(" → ") })));
process.exit(0);
