#!/usr/bin/env node
// node load/profile-cpu.mjs --port 9229 [--seconds 6] [--wait 4] [--worker micronode] [--out file.cpuprofile]
// A CPU profile of one worker in workerd, taken over its inspector (`npm run load -- … --inspect
// 9229` exposes it) while a load run is under way: waits `--wait` s for the run to get going,
// samples `--seconds` s, writes the .cpuprofile (open it in any Chrome DevTools front end) and
// prints the functions with the most self time, resolved against the bundle's line numbers.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import WebSocket from "ws";

const { values } = parseArgs({ options: { port: { type: "string", default: "9229" }, seconds: { type: "string", default: "6" }, wait: { type: "string", default: "4" }, worker: { type: "string", default: "micronode" }, out: { type: "string" }, top: { type: "string", default: "25" } } });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let targets = [];
for (let i = 0; i < 100 && !targets.length; i++) {
  targets = await fetch(`http://127.0.0.1:${values.port}/json`).then((r) => r.json()).catch(() => []);
  if (!targets.length) await sleep(300);
}
const target = targets.find((t) => t.title.includes(values.worker));
if (!target) {
  console.error(`no worker matching "${values.worker}" on 127.0.0.1:${values.port}: ${targets.map((t) => t.title).join(", ") || "no inspector"}`);
  process.exit(1);
}
const socket = new WebSocket(target.webSocketDebuggerUrl);
await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
let nextId = 0;
const waiting = new Map();
socket.on("message", (data) => {
  const message = JSON.parse(String(data));
  waiting.get(message.id)?.(message);
  waiting.delete(message.id);
});
const call = (method, params = {}) => new Promise((resolve) => {
  const id = ++nextId;
  waiting.set(id, resolve);
  socket.send(JSON.stringify({ id, method, params }));
});

await call("Profiler.enable");
await call("Profiler.setSamplingInterval", { interval: 200 });
await sleep(Number(values.wait) * 1000);
await call("Profiler.start");
await sleep(Number(values.seconds) * 1000);
const { result } = await call("Profiler.stop");
socket.close();
const profile = result.profile;
if (values.out) writeFileSync(values.out, JSON.stringify(profile));

const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map();
let total = 0;
profile.samples.forEach((sample, i) => {
  const frame = nodes.get(sample).callFrame;
  const key = `${frame.functionName || "(anonymous)"} ${frame.url ? `${frame.url.split("/").pop()}:${frame.lineNumber + 1}` : ""}`.trim();
  const dt = profile.timeDeltas[i] ?? 0;
  self.set(key, (self.get(key) ?? 0) + dt);
  total += dt;
});
console.log(`${(total / 1000).toFixed(0)} ms sampled in ${target.title}; self time:`);
for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${key}`);
