#!/usr/bin/env node
// node load/do-memory.mjs [--objects 200] [--idle-s 15] [--rounds 1] [--cases sqlite:new,sqlite:same,kv:new,sqlite-mem:new]
// What does a Durable Object instance cost workerd's RSS, and is it given back? A minimal worker
// (a DO class with one counter in memory, no storage calls) is served by a fresh Miniflare per
// case (127.0.0.1, DO state persisted to a temp dir as the soak does, or Miniflare's default for
// `*-mem`); each request calls `hit()` on the object named by ?name=. `new`: every request names a
// new object (idFromName), `same`: all name one, `none`: no object is called (workerd alone), `unique`: a newUniqueId()
// per request (as overlay sessions are made); `-abort` (e.g. `unique-abort`): the object resets
// itself (ctx.abort) after answering, so it is not kept until idle eviction; `conns`: no object,
// all of a round's requests at once, each on a connection of its own (what does a burst of
// connections leave behind?). RSS and workerd's open file descriptors before,
// after `--objects` requests, and after `--idle-s` seconds of no traffic (does idle eviction free
// them?), `--rounds` times on the same workerd (is the memory of evicted objects reused by the
// next round's, or does every new object add to it?). Backends: `sqlite` (useSQLite, as every
// class in wrangler.toml), `kv` (the legacy KV storage). Found: docs/PERFORMANCE.md, Soak.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { rssBytes, rssParts, workerdPid } from "./driver/targets.mjs";

const WORKER = `
import { DurableObject } from "cloudflare:workers";
export class Counter extends DurableObject {
  n = 0;
  async hit(abort) {
    // abort: reset the object once this call has answered, as a finished session could
    if (abort) setTimeout(() => { try { this.ctx.abort("done"); } catch {} }, 0);
    return ++this.n;
  }
}
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const name = url.searchParams.get("name") ?? "one";
    if (name === "none") return new Response("no object");
    const id = name === "unique" ? env.NS.newUniqueId() : env.NS.idFromName(name);
    return new Response(String(await env.NS.get(id).hit(url.searchParams.has("abort"))));
  },
};`;

const { values } = parseArgs({ options: { objects: { type: "string", default: "200" }, "idle-s": { type: "string", default: "15" }, rounds: { type: "string", default: "1" }, cases: { type: "string", default: "sqlite:new,sqlite:same,kv:new,sqlite-mem:new" } } });
const objects = Number(values.objects);
const idleS = Number(values["idle-s"]);
const { Miniflare } = await import("miniflare");
const mib = (bytes) => (bytes / 1048576).toFixed(1);
const fds = (pid) => {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
};

for (const [backend, naming] of values.cases.split(",").map((c) => c.split(":"))) {
  const persist = backend.endsWith("-mem") ? null : mkdtempSync(join(tmpdir(), "ron-do-memory-"));
  const mf = new Miniflare({
    modules: [{ type: "ESModule", path: "worker.mjs", contents: WORKER }],
    compatibilityDate: "2025-09-01",
    host: "127.0.0.1",
    port: 0,
    durableObjects: { NS: { className: "Counter", useSQLite: backend.startsWith("sqlite") } },
    ...(persist ? { durableObjectsPersist: persist } : {}),
  });
  const url = await mf.ready;
  const pid = workerdPid();
  let turn = 0;
  const nameOf = { new: () => `k${turn++}`, unique: () => "unique", none: () => "none", same: () => "one", conns: () => "none" }[naming.replace(/-abort$/, "")];
  const target = new URL(url);
  // conns: a request on a connection of its own (no keep-alive), no object called
  const viaOwnConnection = (path) =>
    new Promise((resolve) => {
      const req = http.get({ host: target.hostname, port: target.port, path, agent: false }, (res) => (res.resume(), res.on("end", () => resolve(res.statusCode))));
      req.on("error", (e) => resolve(e.code));
    });
  const hit = async () => (naming === "conns" ? viaOwnConnection(`/?name=none`) : (await fetch(`${url}?name=${nameOf()}${naming.endsWith("-abort") ? "&abort" : ""}`)).text());
  for (let i = 0; i < 10; i++) await hit(); // warm-up (10 objects when new)
  const first = { rss: rssBytes(pid), anon: rssParts(pid).anon, fds: fds(pid) };
  for (let round = 1; round <= Number(values.rounds); round++) {
    const before = { rss: rssBytes(pid), anon: rssParts(pid).anon, fds: fds(pid) };
    const started = performance.now();
    // conns: all of a round's requests at once (that many connections open together); else 8 at a time
    const inParallel = naming === "conns" ? objects : 8;
    for (let i = 0; i < objects; i += inParallel) await Promise.all(Array.from({ length: Math.min(inParallel, objects - i) }, hit));
    const ms = performance.now() - started;
    const after = { rss: rssBytes(pid), anon: rssParts(pid).anon, fds: fds(pid) };
    await new Promise((r) => setTimeout(r, idleS * 1000));
    const idle = { rss: rssBytes(pid), anon: rssParts(pid).anon, fds: fds(pid) };
    const perObject = (b) => ((b - before.rss) / 1024 / objects).toFixed(1);
    console.log(
      `${backend} ${naming} round ${round}: ${objects} requests in ${(ms / 1000).toFixed(1)} s: RSS ${mib(before.rss)} → ${mib(after.rss)} MiB (anon ${mib(before.anon)} → ${mib(after.anon)}), ` +
        `${perObject(after.rss)} KiB per request; open fds ${before.fds} → ${after.fds}; after ${idleS} s idle: RSS ${mib(idle.rss)} MiB (anon ${mib(idle.anon)}, file ${mib(rssParts(pid).file)}, shmem ${mib(rssParts(pid).shmem)}; ${perObject(idle.rss)} KiB per request), fds ${idle.fds}`,
    );
  }
  const last = rssBytes(pid);
  console.log(`${backend} ${naming}: ${values.rounds} × ${objects} requests: RSS ${mib(first.rss)} → ${mib(last)} MiB, ${((last - first.rss) / 1024 / objects / Number(values.rounds)).toFixed(1)} KiB per request over all rounds`);
  await mf.dispose();
  if (persist) rmSync(persist, { recursive: true, force: true });
}
