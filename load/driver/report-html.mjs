// The HTML report: a table of per-route figures and, for every route, two inline SVG plots
// (p50/p95/p99 per second over the run, and the latency percentile spectrum). No external assets.

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const COLORS = { p50: "#2b8a3e", p95: "#e67700", p99: "#c92a2a", spectrum: "#1864ab" };

function lineChart({ title, series, xLabel, yLabel, width = 560, height = 240, logX = false }) {
  const pad = { l: 56, r: 16, t: 28, b: 40 };
  const points = series.flatMap((s) => s.points);
  if (points.length === 0) return `<p>${esc(title)}: no data</p>`;
  const xs = points.map((p) => (logX ? Math.log10(p.x) : p.x));
  const [xMin, xMax] = [Math.min(...xs), Math.max(...xs, Math.min(...xs) + 1e-9)];
  const yMax = Math.max(...points.map((p) => p.y), 1e-3) * 1.1;
  const sx = (x) => pad.l + (((logX ? Math.log10(x) : x) - xMin) / (xMax - xMin || 1)) * (width - pad.l - pad.r);
  const sy = (y) => height - pad.b - (y / yMax) * (height - pad.t - pad.b);
  const grid = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => `<line x1="${pad.l}" x2="${width - pad.r}" y1="${sy(yMax * f)}" y2="${sy(yMax * f)}" stroke="#eee"/><text x="${pad.l - 6}" y="${sy(yMax * f) + 4}" font-size="10" text-anchor="end">${(yMax * f).toFixed(1)}</text>`)
    .join("");
  const lines = series
    .map((s) => `<polyline fill="none" stroke="${s.color}" stroke-width="1.6" points="${s.points.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(" ")}"/>`)
    .join("");
  const legend = series.map((s, i) => `<text x="${pad.l + 8 + i * 70}" y="${pad.t - 10}" font-size="11" fill="${s.color}">${esc(s.name)}</text>`).join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${esc(title)}">
<text x="${width / 2}" y="14" font-size="12" text-anchor="middle" font-weight="bold">${esc(title)}</text>${grid}${lines}${legend}
<text x="${width / 2}" y="${height - 6}" font-size="11" text-anchor="middle">${esc(xLabel)}</text>
<text x="12" y="${height / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 12 ${height / 2})">${esc(yLabel)}</text></svg>`;
}

export function renderHtml(report) {
  const rows = report.routes
    .map((r) => `<tr><td>${esc(r.route)}</td><td>${r.requests}</td><td>${r.rps}</td><td>${r.p50_ms}</td><td>${r.p95_ms}</td><td>${r.p99_ms}</td><td>${r.max_ms}</td><td>${(r.failure_rate * 100).toFixed(3)}%</td><td>${(r.shed_rate * 100).toFixed(3)}%</td><td>${esc(JSON.stringify(r.statuses))}</td></tr>`)
    .join("");
  const slo = (report.slo?.checks ?? []).map((c) => `<li>${c.ok ? "✅" : "❌"} ${esc(c.what)}: ${esc(c.actual)} (limit ${esc(c.limit)})</li>`).join("");
  const plots = report.routes
    .map((r) => {
      const over = ["p50", "p95", "p99"].map((k) => ({ name: k, color: COLORS[k], points: r.timeline.map((t) => ({ x: t.second, y: t[`${k}_ms`] })) }));
      const spectrum = [{ name: "latency", color: COLORS.spectrum, points: r.percentiles.filter((p) => p.p < 100).map((p) => ({ x: 100 / (100 - p.p), y: p.ms })) }];
      return `<h3>${esc(r.route)}</h3><div class="plots">${lineChart({ title: `${r.route}: latency over time`, series: over, xLabel: "second of run", yLabel: "ms" })}${lineChart({ title: `${r.route}: percentile spectrum`, series: spectrum, xLabel: "percentile (p50 … p99.9, log scale of 1/(1-p))", yLabel: "ms", logX: true })}</div>`;
    })
    .join("");
  return `<!doctype html><html><head><meta charset="utf-8"><title>ron-workers load: ${esc(report.scenario)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px;text-align:right}td:first-child{text-align:left}.plots{display:flex;gap:16px;flex-wrap:wrap}</style></head><body>
<h1>${esc(report.scenario)} — ${esc(report.mode)}</h1>
<p>${esc(report.started_at)} · commit ${esc(report.commit)} · ${esc(report.machine.cpus)} × ${esc(report.machine.cpu_model)} · Node ${esc(report.machine.node)} · target ${esc(report.target.kind)} on ${esc(report.target.url)}</p>
<p>achieved ${report.totals.achieved_rps} req/s (asked ${report.asked_rps ?? "max"}), failures ${(report.totals.failure_rate * 100).toFixed(3)}%, shed ${(report.totals.shed_rate * 100).toFixed(3)}%, workerd RSS max ${(report.server.rss_max_bytes / 1048576).toFixed(1)} MiB, CPU ${report.server.cpu_seconds} s${report.ceiling ? `, hello-world ceiling ${report.ceiling.rps} req/s (ratio ${report.ceiling.ratio})` : ""}${report.bundle ? `, bundle ${report.bundle.raw_bytes} B raw / ${report.bundle.gzip_bytes} B gzip` : ""}${report.cold_start ? `, cold start median ${report.cold_start.ready_ms.median} ms (${report.cold_start.runs} runs), first request ${report.cold_start.first_request_ms.median} ms` : ""}</p>
${slo ? `<h2>SLO ${report.slo.ok ? "met" : "missed"}</h2><ul>${slo}</ul>` : ""}
<h2>Routes</h2><table><tr><th>route</th><th>requests</th><th>req/s</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th><th>failures</th><th>shed</th><th>statuses</th></tr>${rows}</table>
<h2>Latency</h2>${plots}</body></html>`;
}
