// The HTML report of a load run, one self-contained page (inline SVG, no external assets): the
// run's figures and SLO verdict, a table per route, then charts: the p95 of every route over the
// run against its SLO, and per route p50/p95/p99/max over time and the percentile spectrum up to
// the max. Each route keeps one colour on the page; every chart has ticks with units on both axes,
// the SLO as a labelled dashed line, and its legend in a row of its own between title and plot.

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

/** Distinct, colour-blind-safe route colours (Okabe–Ito without its yellow, then more). */
const ROUTE_COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#444444", "#8C564B", "#17BECF", "#9467BD"];
export const routeColor = (index) => ROUTE_COLORS[index % ROUTE_COLORS.length];
const SLO_COLOR = "#C92A2A";
const MAX_COLOR = "#666666";
const FONT = 11;
/** A generous width of one glyph of the page's sans-serif at FONT px, to lay legends out without measuring. */
const CHAR_WIDTH = 0.62 * FONT;
const textWidth = (text, size = FONT) => String(text).length * CHAR_WIDTH * (size / FONT);

/** Round tick values covering [min, max]: steps of 1, 2, 2.5 or 5 × 10^k, about `target` of them. */
export function niceTicks(min, max, target = 5) {
  if (!(max > min)) max = min + 1;
  const raw = (max - min) / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * magnitude).find((s) => s >= raw * 0.999);
  const lo = Math.floor(min / step + 1e-9) * step;
  const hi = Math.ceil(max / step - 1e-9) * step;
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9)) + (String(step / magnitude).includes(".") ? 1 : 0);
  const ticks = [];
  for (let v = lo; v <= hi + step / 2; v += step) ticks.push({ value: Number(v.toFixed(10)), label: v.toFixed(decimals) });
  return { lo, hi, ticks };
}

/**
 * Place label blocks beside the plot at their lines' heights without overlapping: in order of the
 * wanted top, each starts below the previous one; a run that ends past `maxBottom` moves up.
 */
function stackLabels(blocks, maxBottom) {
  const sorted = [...blocks].sort((a, b) => a.top - b.top);
  for (let i = 1; i < sorted.length; i++) sorted[i].top = Math.max(sorted[i].top, sorted[i - 1].top + sorted[i - 1].height + 3);
  const overflow = sorted.length ? sorted.at(-1).top + sorted.at(-1).height - maxBottom : 0;
  if (overflow > 0) for (const block of sorted) block.top -= overflow;
  return blocks;
}

/**
 * One line chart.
 * @param {object} o
 * @param {string} o.id  data-chart, for tests and links
 * @param {string} o.title
 * @param {{title: string, lo: number, hi: number, ticks: {value: number, label: string}[], map?: (v: number) => number}} o.x
 * @param {{title: string, lo: number, hi: number, ticks: {value: number, label: string}[]}} o.y
 * @param {{name: string, color: string, dash?: string, width?: number, opacity?: number, markers?: boolean, points: {x: number, y: number}[]}[]} o.series
 * @param {number} [o.labelMargin]  px kept right of the plot for line labels, at least
 * @param {{value: number, label: string, detail?: string[], color: string, dash: string, cls: string, legend?: string, legendColor?: string, data?: Record<string, string>}[]} [o.lines]
 *   horizontal reference lines (SLO, max), each labelled in the margin right of the plot (its
 *   label, then `detail` lines in smaller type), where no data can run over it
 */
function lineChart({ id, title, width = 600, height = 300, x, y, series, lines = [], labelMargin = 0 }) {
  const left = 64;
  const labelWidth = (l) => Math.max(textWidth(l.label), ...(l.detail ?? []).map((d) => textWidth(d, FONT - 1)));
  // the margin for line labels; `labelMargin` keeps charts shown side by side aligned
  const right = width - 16 - Math.max(labelMargin, lines.length ? 10 + Math.max(...lines.map(labelWidth)) : 0);
  // legend: one row (or more) between the title and the plot, items placed by their estimated width
  // a reference line's legend entry: its own label, or a shared name (entries of one name are shown once)
  const legendItems = [...series, ...lines.map((l) => ({ name: l.legend ?? l.label, color: l.legendColor ?? l.color, dash: l.dash, width: 1.5 }))].filter((item, i, all) => all.findIndex((o) => o.name === item.name) === i);
  const rows = [[]];
  let cursor = left;
  for (const item of legendItems) {
    const w = 28 + textWidth(item.name);
    if (cursor + w > right && rows.at(-1).length) {
      rows.push([]);
      cursor = left;
    }
    rows.at(-1).push({ ...item, x: cursor, w });
    cursor += w + 12;
  }
  const legendTop = 28;
  const rowHeight = 18;
  const top = legendTop + rows.length * rowHeight + 10;
  const bottom = height - 46;
  const mapX = x.map ?? ((v) => v);
  const sx = (v) => left + ((mapX(v) - mapX(x.lo)) / (mapX(x.hi) - mapX(x.lo) || 1)) * (right - left);
  const sy = (v) => bottom - ((v - y.lo) / (y.hi - y.lo || 1)) * (bottom - top);
  const f = (n) => n.toFixed(1);

  const legend = rows
    .flatMap((row, r) =>
      row.map((item) => {
        const cy = legendTop + r * rowHeight + rowHeight / 2;
        return `<g class="legend-item"><rect class="legend-box" x="${f(item.x)}" y="${f(cy - 7)}" width="${f(item.w)}" height="14" fill="none"/><line x1="${f(item.x + 2)}" x2="${f(item.x + 22)}" y1="${f(cy)}" y2="${f(cy)}" stroke="${item.color}" stroke-width="${item.width ?? 2}"${item.dash ? ` stroke-dasharray="${item.dash}"` : ""}${item.opacity ? ` stroke-opacity="${item.opacity}"` : ""}/><text x="${f(item.x + 28)}" y="${f(cy + 4)}" font-size="${FONT}">${esc(item.name)}</text></g>`;
      }),
    )
    .join("");
  const xAxis = x.ticks
    .filter((t) => t.value >= x.lo && t.value <= x.hi)
    .map((t) => `<line class="grid" x1="${f(sx(t.value))}" x2="${f(sx(t.value))}" y1="${top}" y2="${bottom}" stroke="#eee"/><line class="tick" x1="${f(sx(t.value))}" x2="${f(sx(t.value))}" y1="${bottom}" y2="${bottom + 5}" stroke="#333"/><text class="tick-label" data-value="${t.value}" x="${f(sx(t.value))}" y="${bottom + 17}" font-size="${FONT}" text-anchor="middle">${esc(t.label)}</text>`)
    .join("");
  const yAxis = y.ticks
    .filter((t) => t.value >= y.lo && t.value <= y.hi)
    .map((t) => `<line class="grid" x1="${left}" x2="${right}" y1="${f(sy(t.value))}" y2="${f(sy(t.value))}" stroke="#eee"/><line class="tick" x1="${left - 5}" x2="${left}" y1="${f(sy(t.value))}" y2="${f(sy(t.value))}" stroke="#333"/><text class="tick-label" data-value="${t.value}" x="${left - 8}" y="${f(sy(t.value) + 4)}" font-size="${FONT}" text-anchor="end">${esc(t.label)}</text>`)
    .join("");
  const paths = series
    .map((s) => {
      const pts = s.points.map((p) => `${f(sx(p.x))},${f(sy(p.y))}`).join(" ");
      const markers = s.markers ? s.points.map((p) => `<circle cx="${f(sx(p.x))}" cy="${f(sy(p.y))}" r="3" fill="${s.color}"/>`).join("") : "";
      return `<polyline class="series-line" data-series="${esc(s.name)}" fill="none" stroke="${s.color}" stroke-width="${s.width ?? 2}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}${s.opacity ? ` stroke-opacity="${s.opacity}"` : ""} points="${pts}"/>${markers}`;
    })
    .join("");
  const blocks = stackLabels(
    lines.map((l) => ({ line: l, top: sy(l.value) - FONT / 2 - 2, height: FONT + 3 + (l.detail?.length ?? 0) * FONT })),
    // beside the plot, not down among the x axis's labels
    bottom + 4,
  );
  const refs = blocks
    .map(({ line: l, top: labelTop, height: h }) => {
      const data = Object.entries(l.data ?? {}).map(([k, v]) => ` data-${k}="${esc(v)}"`).join("");
      const ly = sy(l.value);
      const tx = right + 10;
      const detail = (l.detail ?? []).map((d, i) => `<tspan x="${f(tx)}" y="${f(labelTop + FONT + 1 + (i + 1) * FONT)}" font-size="${FONT - 1}">${esc(d)}</tspan>`).join("");
      // a leader from the line's end to its label, which may have moved to make room
      return `<line class="${l.cls}" data-ms="${l.value}"${data} x1="${left}" x2="${right}" y1="${f(ly)}" y2="${f(ly)}" stroke="${l.color}" stroke-width="1.5" stroke-dasharray="${l.dash}"/><polyline fill="none" stroke="${l.color}" stroke-width="1" points="${f(right)},${f(ly)} ${f(right + 6)},${f(labelTop + FONT / 2 + 2)} ${f(right + 8)},${f(labelTop + FONT / 2 + 2)}"/><rect class="label-box" x="${f(tx)}" y="${f(labelTop)}" width="${f(labelWidth(l))}" height="${f(h)}" fill="none"/><text class="ref-label" x="${f(tx)}" y="${f(labelTop + FONT + 1)}" font-size="${FONT}" fill="${l.color}">${esc(l.label)}${detail}</text>`;
    })
    .join("");
  return `<svg class="chart" data-chart="${esc(id)}" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)}" font-family="system-ui, sans-serif">
<text class="title" x="${left}" y="17" font-size="13" font-weight="bold">${esc(title)}</text>
<g class="legend">${legend}</g>
<rect class="plot-area" x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="#fff" stroke="#bbb"/>
<g class="axis x">${xAxis}<text class="axis-title" x="${f((left + right) / 2)}" y="${height - 8}" font-size="${FONT}" text-anchor="middle">${esc(x.title)}</text></g>
<g class="axis y">${yAxis}<text class="axis-title" x="14" y="${f((top + bottom) / 2)}" font-size="${FONT}" text-anchor="middle" transform="rotate(-90 14 ${f((top + bottom) / 2)})">${esc(y.title)}</text></g>
<g class="series">${paths}</g><g class="refs">${refs}</g></svg>`;
}

const fmtMs = (ms) => (ms >= 100 ? Math.round(ms).toString() : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
/** The time axis: the run's seconds; a point stands in the middle of its second. */
const timeAxis = (seconds) => ({ title: "time since start (s)", ...niceTicks(0, Math.max(1, seconds), 6) });
/** A latency axis from 0 covering the data and every reference line. */
const latencyAxis = (values) => ({ title: "latency (ms)", ...niceTicks(0, Math.max(0.001, ...values) * 1.05, 5) });

function overviewChart(routes, colors, slo, seconds) {
  const series = routes.map((r) => ({ name: r.route, color: colors.get(r.route), width: 2, points: r.timeline.map((t) => ({ x: t.second + 0.5, y: t.p95_ms })) }));
  // routes sharing a threshold share one line, labelled with all of them
  const byValue = new Map();
  for (const r of routes) if (slo[r.route] !== undefined) byValue.set(slo[r.route], [...(byValue.get(slo[r.route]) ?? []), r.route]);
  const lines = [...byValue].map(([value, names]) => ({
    value,
    label: `SLO p95 ${value} ms`,
    detail: names,
    legend: "SLO p95 (the routes named at its end)",
    legendColor: "#333333",
    color: names.length === 1 ? colors.get(names[0]) : "#333333",
    dash: "7 4",
    cls: "slo",
    data: { routes: names.join("|") },
  }));
  const y = latencyAxis([...series.flatMap((s) => s.points.map((p) => p.y)), ...lines.map((l) => l.value)]);
  return lineChart({ id: "overview", title: "p95 latency per second, every route, against its SLO", width: 1260, height: 340, x: timeAxis(seconds), y, series, lines });
}

function routeCharts(r, color, sloMs, seconds) {
  const labelMargin = 10 + textWidth("SLO p95 ≤ 1000 ms");
  const over = [
    { key: "p50", dash: "2 3", width: 1.6 },
    { key: "p95", width: 2.4 },
    { key: "p99", dash: "8 3", width: 1.6 },
    { key: "max", width: 1, opacity: 0.45 },
  ]
    .filter(({ key }) => r.timeline.every((t) => t[`${key}_ms`] !== undefined))
    .map(({ key, ...style }) => ({ name: key, color, ...style, points: r.timeline.map((t) => ({ x: t.second + 0.5, y: t[`${key}_ms`] })) }));
  const slo = sloMs === undefined ? [] : [{ value: sloMs, label: `SLO p95 ≤ ${sloMs} ms`, color: SLO_COLOR, dash: "7 4", cls: "slo", data: { route: r.route } }];
  const timeChart = lineChart({
    id: `time ${r.route}`,
    title: `${r.route}: latency per second`,
    x: timeAxis(seconds),
    y: latencyAxis([...over.flatMap((s) => s.points.map((p) => p.y)), ...slo.map((l) => l.value)]),
    series: over,
    lines: slo,
    labelMargin,
  });
  // the spectrum: x is 1/(1-p) on a log scale, so p50 … p99.9 are evenly spread
  const inverse = (p) => 100 / (100 - p);
  const points = r.percentiles.filter((p) => p.p < 100).map((p) => ({ x: inverse(p.p), y: p.ms }));
  const max = { value: r.max_ms, label: `max ${fmtMs(r.max_ms)} ms`, color: MAX_COLOR, dash: "2 2", cls: "max" };
  const spectrum = lineChart({
    id: `spectrum ${r.route}`,
    title: `${r.route}: latency by percentile`,
    x: { title: "percentile (log scale of 1/(1−p))", lo: inverse(50), hi: inverse(99.9), map: Math.log10, ticks: [50, 75, 90, 95, 99, 99.9].map((p) => ({ value: inverse(p), label: `p${p}` })) },
    y: latencyAxis([r.max_ms, ...points.map((p) => p.y), ...slo.map((l) => l.value)]),
    series: [{ name: "latency", color, width: 2, markers: true, points }],
    lines: [...slo, max],
    labelMargin,
  });
  return `<div class="plots">${timeChart}${spectrum}</div>`;
}

/**
 * @param {object} report  a load report (load.mjs runScenario)
 * @param {{sloP95Ms?: Record<string, number>}} [options]  p95 thresholds by route (load/scenarios.json slo.p95_ms)
 */
export function renderHtml(report, { sloP95Ms = {} } = {}) {
  const colors = new Map(report.routes.map((r, i) => [r.route, routeColor(i)]));
  const seconds = Math.max(report.duration_s ?? 0, ...report.routes.flatMap((r) => r.timeline.map((t) => t.second + 1)));
  const swatch = (route) => `<span class="swatch" style="background:${colors.get(route)}"></span>`;
  const rows = report.routes
    .map((r) => {
      const slo = sloP95Ms[r.route];
      const miss = slo !== undefined && r.p95_ms > slo;
      return `<tr data-route="${esc(r.route)}"><td>${swatch(r.route)}${esc(r.route)}</td><td>${r.requests}</td><td>${r.rps}</td><td class="p50">${fmtMs(r.p50_ms)}</td><td class="p95${miss ? " miss" : ""}">${fmtMs(r.p95_ms)}</td><td class="p99">${fmtMs(r.p99_ms)}</td><td class="max">${fmtMs(r.max_ms)}</td><td>${slo ?? "–"}</td><td>${(r.failure_rate * 100).toFixed(3)}%</td><td>${(r.shed_rate * 100).toFixed(3)}%</td><td class="statuses">${esc(Object.entries(r.statuses).map(([s, n]) => `${s}: ${n}`).join(", "))}</td></tr>`;
    })
    .join("");
  const checks = (report.slo?.checks ?? []).map((c) => `<li><span class="${c.ok ? "ok" : "miss"}">${c.ok ? "ok" : "MISS"}</span> ${esc(c.what)}: ${esc(c.actual)} (limit ${esc(c.limit)})</li>`).join("");
  const perRoute = report.routes.map((r) => `<h3>${swatch(r.route)}${esc(r.route)}</h3>${routeCharts(r, colors.get(r.route), sloP95Ms[r.route], seconds)}`).join("");
  const verdict = report.slo ? (report.slo.ok ? `<span class="ok">SLO met</span>` : `<span class="miss">SLO missed</span>`) : "";
  return `<!doctype html><html><head><meta charset="utf-8"><title>ron-workers load: ${esc(report.scenario)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1300px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px;text-align:right}td:first-child,th:first-child,td.statuses,th.statuses{text-align:left}.plots{display:flex;gap:20px;flex-wrap:wrap}.swatch{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;vertical-align:-1px}.ok{color:#2b8a3e;font-weight:bold}.miss{color:#c92a2a;font-weight:bold}ul{padding-left:20px}h3{margin:28px 0 8px}</style></head><body>
<h1>${esc(report.scenario)} — ${esc(report.mode)} ${verdict}</h1>
<p>${esc(report.started_at)} · commit ${esc(report.commit)} · ${esc(report.machine.cpus)} × ${esc(report.machine.cpu_model)} · Node ${esc(report.machine.node)} · target ${esc(report.target.kind)} on ${esc(report.target.url)}</p>
<p>achieved ${report.totals.achieved_rps} req/s (asked ${report.asked_rps ?? "max"}), failures ${(report.totals.failure_rate * 100).toFixed(3)}%, shed ${(report.totals.shed_rate * 100).toFixed(3)}%, workerd RSS max ${(report.server.rss_max_bytes / 1048576).toFixed(1)} MiB, CPU ${report.server.cpu_seconds} s${report.ceiling ? `, hello-world ceiling ${report.ceiling.rps} req/s (ratio ${report.ceiling.ratio})` : ""}${report.bundle ? `, bundle ${report.bundle.raw_bytes} B raw / ${report.bundle.gzip_bytes} B gzip` : ""}${report.cold_start ? `, cold start median ${report.cold_start.ready_ms.median} ms (${report.cold_start.runs} runs), first request ${report.cold_start.first_request_ms.median} ms` : ""}</p>
${checks ? `<h2>SLO checks</h2><ul>${checks}</ul>` : ""}
<h2>Routes</h2><table><tr><th>route</th><th>requests</th><th>req/s</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th><th>SLO p95 ms</th><th>failures</th><th>shed</th><th class="statuses">statuses</th></tr>${rows}</table>
<h2>Latency</h2>${overviewChart(report.routes, colors, sloP95Ms, seconds)}${perRoute}</body></html>`;
}
