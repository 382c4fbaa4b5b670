// Reads a V8 .cpuprofile: names each frame (source-mapped back to the repository's files when the
// bundle's source map is given), merges the call tree by function, and sums self and total
// samples per function, per source file and per kind of code.
//
// Time is counted in samples. workerd's sampler only ticks while the isolate is entered, so the
// gaps between samples while it is parked are not CPU; each sample stands for the median sampling
// interval, and percentages are of the busy (non-idle) samples.
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { SourceMap } from "node:module";
import { basename, dirname, relative, resolve } from "node:path";

const SPECIAL = new Set(["(root)", "(program)", "(idle)", "(garbage collector)"]);
const PROJECT_DIRS = /^(shared|workers|durable-objects|sdk)\//;

/** A resolver of bundle positions to repository files, from `<bundle>.map` next to the bundle. */
export function bundleLocator(bundlePath, root) {
  const mapPath = `${bundlePath}.map`;
  const wasm = readdirSync(dirname(bundlePath)).filter((name) => name.endsWith(".wasm"));
  let map = null;
  if (existsSync(mapPath)) {
    const payload = JSON.parse(readFileSync(mapPath, "utf8"));
    map = { sourceMap: new SourceMap(payload), base: resolve(dirname(mapPath), payload.sourceRoot ?? "") };
  }
  const script = basename(bundlePath);
  return {
    /** Repository-relative `file:line` for a bundle position (0-based), or null. */
    source(url, line, column) {
      if (!map || url !== script || line < 0) return null;
      const entry = map.sourceMap.findEntry(line, column);
      if (!entry?.originalSource) return null;
      const absolute = resolve(map.base, entry.originalSource);
      const nodeModules = absolute.lastIndexOf("/node_modules/");
      const file = nodeModules >= 0 ? absolute.slice(nodeModules + 1) : relative(root, absolute);
      return `${file}:${entry.originalLine + 1}`;
    },
    // one WASM module in the bundle: name it (its functions have no names, only indices)
    wasmName: wasm.length === 1 ? wasm[0].replace(/^[0-9a-f]{40}-/, "") : null,
  };
}

/** Where a frame's code lives, and what kind of code it is. */
function describe(callFrame, locator) {
  const { functionName, url, lineNumber, columnNumber } = callFrame;
  if (SPECIAL.has(functionName)) return { location: "", kind: functionName === "(garbage collector)" ? "gc" : functionName === "(program)" ? "program" : "idle" };
  if (url === "") return { location: "(runtime built-in)", kind: "runtime" };
  if (url.startsWith("wasm://")) return { location: locator?.wasmName ? `${locator.wasmName} (${url})` : url, kind: "wasm" };
  if (url.startsWith("node-internal:")) return { location: `${url}:${lineNumber + 1}`, kind: "runtime" };
  const source = locator?.source(url, lineNumber, columnNumber);
  if (source) return { location: source, kind: source.startsWith("node_modules/") ? "dependency" : PROJECT_DIRS.test(source) ? "project" : "other" };
  return { location: `${url}:${lineNumber + 1}`, kind: "other" };
}

const median = (values) => {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

/**
 * @param {{nodes: Array<{id:number, callFrame: object, hitCount?: number, children?: number[]}>, samples?: number[], timeDeltas?: number[], startTime: number, endTime: number}} profile
 * @param {{ locator?: ReturnType<typeof bundleLocator> }} [options]
 */
export function analyseProfile(profile, { locator } = {}) {
  if (!Array.isArray(profile?.nodes) || profile.nodes.length === 0) throw new Error("not a CPU profile: no nodes");
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  // hit counts from the samples when present (they are the ground truth), else the nodes' own
  const hits = new Map();
  if (Array.isArray(profile.samples) && profile.samples.length) for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  else for (const node of profile.nodes) hits.set(node.id, node.hitCount ?? 0);

  const root = profile.nodes.find((n) => n.callFrame.functionName === "(root)") ?? profile.nodes[0];
  const frameOf = new Map(); // callFrame key → { name, location, kind }
  const frame = (callFrame) => {
    const key = `${callFrame.functionName}\u0000${callFrame.url}\u0000${callFrame.lineNumber}\u0000${callFrame.columnNumber}`;
    let f = frameOf.get(key);
    if (!f) {
      const { location, kind } = describe(callFrame, locator);
      f = { name: callFrame.functionName || "(anonymous)", location, kind };
      f.key = `${f.name} ${f.location}`;
      frameOf.set(key, f);
    }
    return f;
  };

  // the call tree merged by function at each level (V8 may split a function by call site)
  const build = (node, merged) => {
    merged.self += hits.get(node.id) ?? 0;
    for (const childId of node.children ?? []) {
      const child = byId.get(childId);
      if (!child) continue;
      const f = frame(child.callFrame);
      let m = merged.children.get(f.key);
      if (!m) merged.children.set(f.key, (m = { frame: f, self: 0, total: 0, children: new Map() }));
      build(child, m);
    }
    merged.total = merged.self + [...merged.children.values()].reduce((sum, c) => sum + c.total, 0);
    return merged;
  };
  const tree = build(root, { frame: { name: "(root)", location: "", kind: "program", key: "(root)" }, self: 0, total: 0, children: new Map() });

  const idle = [...tree.children.values()].filter((c) => c.frame.kind === "idle").reduce((sum, c) => sum + c.total, 0);
  const busy = tree.total - idle;

  // per function: self, and total counted once per stack (recursion must not double it)
  // built-ins and WASM have no file:line of ours: remember which of our functions called them
  const functions = new Map();
  const onStack = new Set();
  const visit = (m, caller) => {
    const f = m.frame;
    let row = functions.get(f.key);
    if (!row) functions.set(f.key, (row = { name: f.name, location: f.location, kind: f.kind, self: 0, total: 0, callers: new Map() }));
    row.self += m.self;
    if (m.self && (f.kind === "runtime" || f.kind === "wasm")) row.callers.set(caller.key, (row.callers.get(caller.key) ?? 0) + m.self);
    const outermost = !onStack.has(f.key);
    if (outermost) {
      row.total += m.total;
      onStack.add(f.key);
    }
    const nextCaller = f.kind === "runtime" || f.kind === "wasm" ? caller : f;
    for (const c of m.children.values()) visit(c, nextCaller);
    if (outermost) onStack.delete(f.key);
  };
  const eventLoop = { key: "(event loop: a callback with no JavaScript caller)" };
  for (const c of tree.children.values()) visit(c, eventLoop);
  for (const row of functions.values()) {
    const [key, self] = [...row.callers].sort((a, b) => b[1] - a[1])[0] ?? [];
    row.mainCaller = key && row.self ? { key, share: self / row.self } : null;
    delete row.callers;
  }

  const files = new Map();
  const kinds = new Map();
  for (const row of functions.values()) {
    if (row.kind === "idle") continue;
    const file = row.kind === "wasm" || row.kind === "gc" || row.kind === "program" || row.location === "(runtime built-in)" ? row.location || row.name : row.location.replace(/:\d+$/, "");
    files.set(file, (files.get(file) ?? 0) + row.self);
    kinds.set(row.kind, (kinds.get(row.kind) ?? 0) + row.self);
  }

  const deltas = profile.timeDeltas ?? [];
  const intervalUs = median(deltas.slice(1)) || 0;
  return {
    tree,
    busySamples: busy,
    idleSamples: idle,
    samples: tree.total,
    intervalUs,
    durationMs: (profile.endTime - profile.startTime) / 1000,
    functions: [...functions.values()].filter((r) => r.kind !== "idle"),
    files: [...files].map(([file, self]) => ({ file, self })).sort((a, b) => b.self - a.self),
    kinds: [...kinds].map(([kind, self]) => ({ kind, self })).sort((a, b) => b.self - a.self),
  };
}

const pct = (part, whole) => (whole ? `${((part / whole) * 100).toFixed(1)}%` : "–");
const ms = (samples, intervalUs) => ((samples * intervalUs) / 1000).toFixed(1);
const cell = (text) => String(text).replace(/\|/g, "\\|");

/** The top-N tables as Markdown: by self time, by total time, by source file, by kind of code. */
export function renderTopTable(analysis, { top = 25, header = [] } = {}) {
  const { busySamples: busy, intervalUs } = analysis;
  const lines = [...header];
  lines.push(
    `Samples: ${analysis.samples} over ${(analysis.durationMs / 1000).toFixed(1)} s, ${busy} of them busy and ${analysis.idleSamples} idle; median interval ${intervalUs} µs. ` +
      `ms ≈ samples × ${intervalUs} µs of CPU in the isolate (≈ ${ms(busy, intervalUs)} ms busy in all); percentages are of the busy samples.`,
    "",
  );
  const where = (r) => (r.location || "—") + (r.mainCaller ? ` ← ${r.mainCaller.key} (${Math.round(r.mainCaller.share * 100)}% of its self)` : "");
  const row = (r, i) => `| ${i + 1} | \`${cell(r.name)}\` | ${r.self} | ${ms(r.self, intervalUs)} | ${pct(r.self, busy)} | ${r.total} | ${ms(r.total, intervalUs)} | ${pct(r.total, busy)} | ${cell(where(r))} |`;
  const head = ["| # | function | self samples | self ms | self % | total samples | total ms | total % | where (file:line; ← main caller of a built-in or WASM function) |", "|---|---|---|---|---|---|---|---|---|"];
  lines.push(`### Top ${top} by self time`, "", ...head, ...[...analysis.functions].sort((a, b) => b.self - a.self || b.total - a.total).slice(0, top).map(row), "");
  lines.push(`### Top ${top} by total time`, "", ...head, ...[...analysis.functions].filter((r) => r.kind !== "program").sort((a, b) => b.total - a.total || b.self - a.self).slice(0, top).map(row), "");
  lines.push("### Self time by source file", "", "| file | self samples | self ms | self % |", "|---|---|---|---|");
  for (const f of analysis.files.slice(0, top)) lines.push(`| ${cell(f.file)} | ${f.self} | ${ms(f.self, intervalUs)} | ${pct(f.self, busy)} |`);
  lines.push("", "### Self time by kind of code", "", "| kind | self samples | self % |", "|---|---|---|");
  for (const k of analysis.kinds) lines.push(`| ${k.kind} | ${k.self} | ${pct(k.self, busy)} |`);
  lines.push("", "Kinds: project = shared/, workers/, durable-objects/, sdk/; dependency = node_modules; runtime = workerd built-ins and its Node.js compatibility layer (node-internal:); wasm = WebAssembly; gc = garbage collector; program = V8 and workerd native code outside JavaScript.", "");
  return lines.join("\n");
}
