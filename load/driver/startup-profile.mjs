// Startup CPU of a bundled worker: what `wrangler check startup` does (a wrapper module imports
// the bundle inside the first request while the inspector's CPU profiler runs), with a finer
// sampling interval, repeated, and summed per source (node_modules package or repository
// directory) through the bundle's source map. Everything runs on 127.0.0.1.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { basename, join } from "node:path";
import WebSocket from "ws";
import { round } from "./stats.mjs";

const COMPATIBILITY = { compatibilityDate: "2025-09-01", compatibilityFlags: ["nodejs_compat"] };
const WRAPPER = "__startup_profile.mjs";
const SAMPLING_US = 100;

/** Modules of a wrangler `--outdir` bundle plus a wrapper that imports the entry on the first request. */
function modulesOf(outDir, entry) {
  const modules = [
    { type: "ESModule", path: join(outDir, WRAPPER), contents: `export default { async fetch() { await import("./${entry}"); return new Response("ok"); } };` },
  ];
  for (const name of readdirSync(outDir)) {
    if (name.endsWith(".js")) modules.push({ type: "ESModule", path: join(outDir, name), contents: readFileSync(join(outDir, name)) });
    else if (name.endsWith(".wasm")) modules.push({ type: "CompiledWasm", path: join(outDir, name), contents: readFileSync(join(outDir, name)) });
    else if (/\.(txt|html)$/.test(name)) modules.push({ type: "Text", path: join(outDir, name), contents: readFileSync(join(outDir, name), "utf8") });
  }
  return modules;
}

/** One CPU profile of the bundle's startup (module evaluation, in a fresh isolate). */
async function profileOnce(Miniflare, outDir, entry) {
  const mf = new Miniflare({ name: "startup", modules: modulesOf(outDir, entry), modulesRoot: outDir, ...COMPATIBILITY, inspectorPort: 0, host: "127.0.0.1", port: 0, cf: false });
  try {
    await mf.ready;
    const ws = new WebSocket(new URL("/core:user:startup", await mf.getInspectorURL()).href);
    await new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });
    let nextId = 1;
    const pending = new Map();
    ws.on("message", (data) => {
      const message = JSON.parse(data.toString());
      pending.get(message.id)?.(message.result);
      pending.delete(message.id);
    });
    const send = (method, params = {}) => new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
    await send("Profiler.enable");
    await send("Profiler.setSamplingInterval", { interval: SAMPLING_US });
    await send("Profiler.start");
    const response = await mf.dispatchFetch("http://startup.local/");
    if (response.status !== 200) throw new Error(`startup wrapper answered ${response.status}: ${await response.text()}`);
    await response.text();
    const { profile } = await send("Profiler.stop");
    ws.close();
    return profile;
  } finally {
    await mf.dispose();
  }
}

/**
 * Startup CPU in a profile: the stretch from the first sample inside the bundle (its code, or the
 * workerd `node:*` modules it imports) to the last, together with the run of non-idle samples
 * just before it (compiling the bundle shows as `(program)`), without `(idle)` samples. The
 * wrapper's own request handling falls outside it. Each sample owns the interval up to the next
 * one (as DevTools counts). Split into JS (by source), `(program)` (parsing, compiling, native)
 * and `(garbage collector)`.
 */
function summarise(profile, entry, sourceOf) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const inBundle = (id) => {
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const url = nodes.get(at).callFrame.url;
      if (url.endsWith(entry) || url.startsWith("node")) return true;
    }
    return false;
  };
  const name = (i) => nodes.get(profile.samples[i]).callFrame.functionName;
  let first = -1;
  let last = -1;
  for (let i = 0; i < profile.samples.length; i++) {
    if (!inBundle(profile.samples[i])) continue;
    if (first < 0) first = i;
    last = i;
  }
  if (first < 0) return { busy: 0, program: 0, gc: 0, bySource: new Map() }; // too quick for one sample
  while (first > 0 && ["(program)", "(garbage collector)"].includes(name(first - 1))) first--;
  const bySource = new Map();
  let busy = 0;
  let program = 0;
  let gc = 0;
  for (let i = first; i <= last && i < profile.samples.length - 1; i++) {
    const ms = profile.timeDeltas[i + 1] / 1000;
    const frame = nodes.get(profile.samples[i]).callFrame;
    if (frame.functionName === "(idle)") continue;
    busy += ms;
    if (frame.functionName === "(program)") program += ms;
    else if (frame.functionName === "(garbage collector)") gc += ms;
    else {
      const source = sourceOf(frame);
      bySource.set(source, (bySource.get(source) ?? 0) + ms);
    }
  }
  return { busy, program, gc, bySource };
}

/** The package or directory a bundle frame comes from, through the source map when there is one. */
function sourceResolver(outDir, entry) {
  const mapPath = join(outDir, `${entry}.map`);
  const map = existsSync(mapPath) ? new SourceMap(JSON.parse(readFileSync(mapPath, "utf8"))) : null;
  return (frame) => {
    if (!frame.url.endsWith(entry)) return frame.url.startsWith("node") ? "workerd node compat (node:*)" : frame.url || "(native)";
    const original = map?.findEntry(frame.lineNumber, frame.columnNumber)?.originalSource;
    if (!original) return "bundle (unmapped)";
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(original);
    if (pkg) return pkg[1];
    const local = /(?:^|\/)(shared|workers|durable-objects)\/(.+)$/.exec(original);
    if (!local) return basename(original);
    return local[1] === "shared" && local[2].includes("/") ? `shared/${local[2].split("/")[0]}` : `${local[1]}/${local[2].split("/")[0]}`;
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Startup CPU of each bundle (`{ name: outDir }`), `runs` times, interleaved (A B A B …) so load on
 * the machine hits every bundle alike. Medians, ranges, and the median ms per source.
 */
export async function profileStartup(bundles, runs = 7) {
  const { Miniflare } = await import("miniflare");
  const samples = Object.fromEntries(Object.keys(bundles).map((name) => [name, []]));
  for (let r = 0; r < runs; r++) {
    for (const [name, outDir] of Object.entries(bundles)) {
      const entry = readdirSync(outDir).find((f) => f.endsWith(".js"));
      samples[name].push(summarise(await profileOnce(Miniflare, outDir, entry), entry, sourceResolver(outDir, entry)));
    }
  }
  const result = {};
  for (const [name, list] of Object.entries(samples)) {
    const stat = (key) => ({ median: round(median(list.map((s) => s[key]))), min: round(Math.min(...list.map((s) => s[key]))), max: round(Math.max(...list.map((s) => s[key]))) });
    const sources = new Set(list.flatMap((s) => [...s.bySource.keys()]));
    const perSource = [...sources].map((source) => [source, round(median(list.map((s) => s.bySource.get(source) ?? 0)))]).filter(([, ms]) => ms > 0).sort((a, b) => b[1] - a[1]);
    result[name] = { runs, startup_cpu_ms: stat("busy"), program_ms: stat("program"), gc_ms: stat("gc"), js_ms_by_source: Object.fromEntries(perSource) };
  }
  return result;
}

/** CPU time (ns) a process's live threads have spent on a CPU, from /proc/<pid>/task/<tid>/schedstat. */
function threadCpuNs(pid) {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // thread ended while we looked
    }
  }
  return ns;
}

/**
 * CPU workerd spends from launch to ready when serving each bundle, without an inspector: workerd
 * compiles and evaluates the entry module at startup, so the bundle's startup cost is its figure
 * minus that of `baseline` (a hello-world worker on the same runtime). Interleaved, medians.
 */
export async function bootCpu(bundles, baseline, runs = 7) {
  const { Miniflare } = await import("miniflare");
  const { workerdPid } = await import("./targets.mjs");
  const all = { baseline, ...bundles };
  const samples = Object.fromEntries(Object.keys(all).map((name) => [name, []]));
  for (let r = 0; r < runs; r++) {
    for (const [name, outDir] of Object.entries(all)) {
      const modules = modulesOf(outDir, readdirSync(outDir).find((f) => f.endsWith(".js")))
        .slice(1) // no wrapper: the entry is the main module, so it must come first
        .sort((a, b) => Number(b.type === "ESModule") - Number(a.type === "ESModule"));
      const mf = new Miniflare({ name: "boot", modules, modulesRoot: outDir, ...COMPATIBILITY, host: "127.0.0.1", port: 0, cf: false });
      try {
        await mf.ready;
        samples[name].push(threadCpuNs(workerdPid()) / 1e6);
      } finally {
        await mf.dispose();
      }
    }
  }
  const base = median(samples.baseline);
  return Object.fromEntries(
    Object.keys(bundles).map((name) => {
      const list = samples[name].map((ms) => ms - base);
      return [name, { runs, startup_cpu_ms: { median: round(median(list)), min: round(Math.min(...list)), max: round(Math.max(...list)) }, baseline_ms: round(base) }];
    }),
  );
}
