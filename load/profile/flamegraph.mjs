// A self-contained SVG flame graph (icicle layout: callers above callees) of an analysed profile's
// merged call tree. No scripts, no fonts or styles from the network: hover a frame for its
// function, file:line and samples (the <title> tooltips every SVG viewer shows).
const WIDTH = 1200;
const ROW = 17;
const TOP = 58;
const MIN_PX = 0.8; // frames narrower than this are left out (their time stays in the parent's width)
const CHAR_PX = 6.6; // average width of an 11 px sans-serif character, to fit labels

const PALETTE = {
  project: [120, 190, 90], // green: the repository's own code
  dependency: [90, 150, 215], // blue: node_modules
  runtime: [175, 175, 175], // grey: workerd built-ins and its Node.js layer
  wasm: [235, 150, 50], // orange: WebAssembly
  gc: [220, 80, 70], // red: garbage collector
  program: [150, 120, 200], // purple: native code outside JavaScript
  other: [200, 200, 120],
};

const escapeXml = (text) => String(text).replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]);

/** A stable shade of the kind's colour per function, so neighbours are told apart. */
function colour(frame) {
  const [r, g, b] = PALETTE[frame.kind] ?? PALETTE.other;
  let hash = 0;
  for (const c of frame.key) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  const shade = ((hash % 1000) / 1000 - 0.5) * 40;
  const clamp = (v) => Math.max(0, Math.min(255, Math.round(v + shade)));
  return `rgb(${clamp(r)},${clamp(g)},${clamp(b)})`;
}

/**
 * @param {ReturnType<import("./analyse.mjs").analyseProfile>} analysis
 * @param {{ title: string, subtitle?: string }} labels
 */
export function renderFlameGraph(analysis, { title, subtitle = "" }) {
  const busy = analysis.busySamples;
  const scale = busy > 0 ? WIDTH / busy : 0;
  const pct = (n) => (busy ? ((n / busy) * 100).toFixed(2) : "0");
  const rects = [];
  let depthMax = 0;

  const place = (node, x, depth) => {
    const width = node.total * scale;
    if (width < MIN_PX) return;
    depthMax = Math.max(depthMax, depth);
    const y = TOP + depth * ROW;
    const f = node.frame;
    const tooltip = `${f.name}${f.location ? ` — ${f.location}` : ""}\ntotal ${node.total} samples (${pct(node.total)}%), self ${node.self} (${pct(node.self)}%)`;
    const fit = Math.floor((width - 6) / CHAR_PX);
    const label = fit >= 3 ? (f.name.length <= fit ? f.name : `${f.name.slice(0, fit - 1)}…`) : "";
    rects.push(
      `<g class="frame" data-function="${escapeXml(f.name)}" data-location="${escapeXml(f.location)}"><title>${escapeXml(tooltip)}</title>` +
        `<rect x="${x.toFixed(2)}" y="${y}" width="${width.toFixed(2)}" height="${ROW - 1}" fill="${colour(f)}" rx="2"/>` +
        (label ? `<text x="${(x + 3).toFixed(2)}" y="${y + ROW - 5}">${escapeXml(label)}</text>` : "") +
        "</g>",
    );
    let childX = x;
    for (const child of [...node.children.values()].sort((a, b) => b.total - a.total)) {
      place(child, childX, depth + 1);
      childX += child.total * scale;
    }
  };

  // the root spans the busy samples: (idle) is left out so the width is where the CPU went
  const all = { frame: { name: "all busy samples", location: "", kind: "program", key: "all" }, self: 0, total: busy, children: new Map() };
  for (const [key, child] of analysis.tree.children) if (child.frame.kind !== "idle") all.children.set(key, child);
  place(all, 0, 0);

  const height = TOP + (depthMax + 1) * ROW + 28;
  const legend = Object.entries(PALETTE)
    .map(([kind, [r, g, b]], i) => `<rect x="${10 + i * 120}" y="${height - 20}" width="12" height="12" fill="rgb(${r},${g},${b})"/><text x="${26 + i * 120}" y="${height - 10}">${kind}</text>`)
    .join("");
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Verdana, Arial, sans-serif" font-size="11">`,
    `<style>text { fill: #111; pointer-events: none; } .frame:hover rect { stroke: #000; stroke-width: 1; } .head { font-size: 15px; } .sub { font-size: 11px; fill: #444; }</style>`,
    `<rect width="100%" height="100%" fill="#fdfdf8"/>`,
    `<text class="head" x="10" y="20">${escapeXml(title)}</text>`,
    `<text class="sub" x="10" y="38">${escapeXml(subtitle)}</text>`,
    `<text class="sub" x="10" y="52">width = share of ${busy} busy samples (each ≈ ${analysis.intervalUs} µs); callers above callees; hover a frame for its file:line</text>`,
    ...rects,
    legend,
    `</svg>`,
    "",
  ].join("\n");
}
