/**
 * The load run's HTML report (load/driver/report-html.mjs) read back from its SVG: ticks with
 * labels and units on both axes of every chart, the SLO as a line wherever a route has a threshold
 * (load/scenarios.json), legends and line labels that overlap neither each other nor the title or
 * the plot, one distinct colour per route, and percentiles that never exceed the max (stats.mjs:
 * HDR answers a percentile with the top of its bucket, which could read above the exact max).
 */
import { describe, expect, it } from "vitest";
// @ts-expect-error: plain JS module of the load harness
import { loadDefinitions } from "../../load/driver/load.mjs";
// @ts-expect-error: plain JS module of the load harness
import { renderHtml } from "../../load/driver/report-html.mjs";
// @ts-expect-error: plain JS module of the load harness
import { RouteStats, totals } from "../../load/driver/stats.mjs";

type Attrs = Record<string, string>;
interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
  what: string;
}

const SLO: Record<string, number> = loadDefinitions().slo.p95_ms;
const DURATION_S = 12;

/** Latencies per route: mostly around `base` ms, rising mid-run, and 5% at one slow value whose HDR bucket top lies above it. */
function routeStats(route: string, base: number, slow: number) {
  const stats = new RouteStats(route);
  for (let second = 0; second < DURATION_S; second++) {
    const rise = second >= 5 && second <= 7 ? 3 : 1;
    for (let i = 0; i < 95; i++) stats.record(base * rise * (0.6 + (i % 10) / 10), 200, second);
    for (let i = 0; i < 5; i++) stats.record(slow, 200, second);
  }
  return stats.summary(DURATION_S);
}

function makeReport() {
  // 123.457 ms: its bucket's top is 123.519 ms, so an unclamped p99 (and p100) read above the max
  const routes = [routeStats("GET /o/:addr", 20, 123.457), routeStats("POST /put", 35, 211.111), routeStats("POST /webhooks/:provider", 30, 98.765), routeStats("GET /healthz", 2, 9.999)];
  return {
    scenario: "synthetic",
    mode: "fixed rate 400/s",
    asked_rps: 400,
    duration_s: DURATION_S,
    started_at: "2026-11-30T00:00:00.000Z",
    commit: "abc1234",
    machine: { cpus: 2, cpu_model: "test cpu", node: "v20", platform: "linux" },
    target: { kind: "micronode", url: "http://127.0.0.1:1" },
    totals: totals(routes, DURATION_S),
    routes,
    server: { rss_max_bytes: 100 * 1048576, cpu_seconds: 1 },
    slo: { ok: false, checks: [{ what: "p95 POST /put", actual: "x ms", limit: "120 ms", ok: false }] },
  };
}

const attrsOf = (text: string): Attrs => Object.fromEntries([...text.matchAll(/([\w-]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
const elements = (svg: string, tag: string, cls?: string) =>
  [...svg.matchAll(new RegExp(`<${tag}\\b([^>]*?)/?>`, "g"))].map((m) => attrsOf(m[1]!)).filter((a) => cls === undefined || (a.class ?? "").split(" ").includes(cls));
const texts = (svg: string, cls: string) =>
  [...svg.matchAll(/<text\b([^>]*)>([\s\S]*?)<\/text>/g)].map((m) => ({ attrs: attrsOf(m[1]!), text: m[2]!.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim() })).filter((t) => (t.attrs.class ?? "") === cls);
const axisGroup = (svg: string, axis: "x" | "y") => new RegExp(`<g class="axis ${axis}">([\\s\\S]*?)</g>`).exec(svg)![1]!;
const num = (a: Attrs, key: string) => Number(a[key]);
const rectBox = (a: Attrs, what: string): Box => ({ x: num(a, "x"), y: num(a, "y"), w: num(a, "width"), h: num(a, "height"), what });
const overlaps = (a: Box, b: Box) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

const report = makeReport();
const html = renderHtml(report, { sloP95Ms: SLO });
const charts = [...html.matchAll(/<svg class="chart"[\s\S]*?<\/svg>/g)].map((m) => ({ svg: m[0], id: attrsOf(m[0].slice(0, m[0].indexOf(">")))["data-chart"] ?? "" }));
const chart = (id: string) => charts.find((c) => c.id === id)!.svg;

/** The y pixel of a value on a chart's y axis, interpolated from its first and last tick. */
function yPixel(svg: string, value: number) {
  const ticks = texts(axisGroup(svg, "y"), "tick-label").map((t) => ({ v: Number(t.attrs["data-value"]), y: num(t.attrs, "y") - 4 }));
  const [a, b] = [ticks[0]!, ticks.at(-1)!];
  return a.y + ((value - a.v) / (b.v - a.v)) * (b.y - a.y);
}

describe("report percentiles", () => {
  it("p50 ≤ p95 ≤ p99 ≤ max on every route, in the JSON and in the table, and p100 is the max", () => {
    for (const r of report.routes) {
      expect(r.p50_ms).toBeLessThanOrEqual(r.p95_ms);
      expect(r.p95_ms).toBeLessThanOrEqual(r.p99_ms);
      expect(r.p99_ms).toBeLessThanOrEqual(r.max_ms);
      expect(r.percentiles.at(-1)).toEqual({ p: 100, ms: r.max_ms });
      for (const t of r.timeline) expect(t.p99_ms).toBeLessThanOrEqual(t.max_ms);
    }
    const rows = [...html.matchAll(/<tr data-route="([^"]+)">([\s\S]*?)<\/tr>/g)];
    expect(rows.map((m) => m[1])).toEqual(report.routes.map((r) => r.route));
    for (const [, , cells] of rows) {
      const cell = (cls: string) => Number(new RegExp(`<td class="${cls}[^"]*">([^<]+)</td>`).exec(cells!)![1]);
      expect(cell("p50")).toBeLessThanOrEqual(cell("p95"));
      expect(cell("p95")).toBeLessThanOrEqual(cell("p99"));
      expect(cell("p99")).toBeLessThanOrEqual(cell("max"));
    }
  });
});

describe("report charts", () => {
  it("has an overview and two charts per route", () => {
    expect(charts.map((c) => c.id)).toEqual(["overview", ...report.routes.flatMap((r) => [`time ${r.route}`, `spectrum ${r.route}`])]);
  });

  it("every chart has tick marks with labels on both axes, in order, and axis titles with units", () => {
    expect(charts).toHaveLength(1 + 2 * report.routes.length);
    for (const { id, svg } of charts) {
      for (const axis of ["x", "y"] as const) {
        const g = axisGroup(svg, axis);
        const labels = texts(g, "tick-label");
        expect(labels.length, `${id} ${axis}`).toBeGreaterThanOrEqual(3);
        expect(elements(g, "line", "tick")).toHaveLength(labels.length);
        const positions = labels.map((t) => num(t.attrs, axis));
        const values = labels.map((t) => Number(t.attrs["data-value"]));
        // x grows to the right, y upwards (smaller pixel y)
        expect(positions, `${id} ${axis} positions`).toEqual([...positions].sort((a, b) => (axis === "x" ? a - b : b - a)));
        expect(values).toEqual([...values].sort((a, b) => a - b));
        expect(new Set(labels.map((t) => t.text)).size).toBe(labels.length);
      }
      const [xTitle, yTitle] = [texts(axisGroup(svg, "x"), "axis-title")[0]!.text, texts(axisGroup(svg, "y"), "axis-title")[0]!.text];
      expect(yTitle).toBe("latency (ms)");
      if (id.startsWith("spectrum")) {
        expect(xTitle).toMatch(/^percentile/);
        expect(texts(axisGroup(svg, "x"), "tick-label").map((t) => t.text)).toEqual(["p50", "p75", "p90", "p95", "p99", "p99.9"]);
      } else {
        expect(xTitle).toBe("time since start (s)");
        const xs = texts(axisGroup(svg, "x"), "tick-label").map((t) => Number(t.text));
        expect(xs[0]).toBe(0);
        expect(xs.at(-1)).toBeGreaterThanOrEqual(DURATION_S);
      }
    }
  });

  it("draws the SLO as a line at its value wherever a route has a threshold, and nowhere else", () => {
    const withSlo = report.routes.filter((r) => SLO[r.route] !== undefined);
    expect(withSlo.length).toBe(3);
    for (const r of report.routes) {
      for (const id of [`time ${r.route}`, `spectrum ${r.route}`]) {
        const svg = chart(id);
        const lines = elements(svg, "line", "slo");
        if (SLO[r.route] === undefined) {
          expect(lines, id).toEqual([]);
          continue;
        }
        expect(lines, id).toHaveLength(1);
        expect(num(lines[0]!, "data-ms")).toBe(SLO[r.route]);
        const plot = rectBox(elements(svg, "rect", "plot-area")[0]!, "plot");
        const y = num(lines[0]!, "y1");
        expect(y).toBeGreaterThanOrEqual(plot.y);
        expect(y).toBeLessThanOrEqual(plot.y + plot.h);
        expect(Math.abs(y - yPixel(svg, SLO[r.route]!))).toBeLessThan(0.6);
        expect(num(lines[0]!, "x1")).toBeCloseTo(plot.x, 0);
        expect(num(lines[0]!, "x2")).toBeCloseTo(plot.x + plot.w, 0);
      }
    }
    const overview = elements(chart("overview"), "line", "slo");
    for (const r of withSlo) expect(overview.some((l) => l["data-routes"]!.split("|").includes(r.route) && num(l, "data-ms") === SLO[r.route]), r.route).toBe(true);
    expect(overview.every((l) => l["data-routes"]!.split("|").every((route) => route !== "GET /healthz"))).toBe(true);
  });

  it("legends and line labels overlap neither each other, nor the title, nor the plot, and stay inside the chart", () => {
    expect(charts).toHaveLength(1 + 2 * report.routes.length);
    for (const { id, svg } of charts) {
      const width = num(attrsOf(svg.slice(0, svg.indexOf(">"))), "width");
      const height = num(attrsOf(svg.slice(0, svg.indexOf(">"))), "height");
      const title = texts(svg, "title")[0]!;
      // the title's box from its baseline and font size (13 px: 0.62 em per glyph is generous)
      const titleBox: Box = { x: num(title.attrs, "x"), y: num(title.attrs, "y") - 13, w: title.text.length * 0.62 * 13, h: 16, what: "title" };
      const plot = rectBox(elements(svg, "rect", "plot-area")[0]!, "plot");
      const boxes = [...elements(svg, "rect", "legend-box").map((a) => rectBox(a, "legend")), ...elements(svg, "rect", "label-box").map((a) => rectBox(a, "line label"))];
      expect(elements(svg, "rect", "legend-box").length, id).toBeGreaterThanOrEqual(1);
      for (const [i, box] of boxes.entries()) {
        expect(overlaps(box, titleBox), `${id}: ${box.what} over the title`).toBe(false);
        expect(overlaps(box, plot), `${id}: ${box.what} over the plot`).toBe(false);
        expect(box.x >= 0 && box.y >= 0 && box.x + box.w <= width && box.y + box.h <= height, `${id}: ${box.what} outside`).toBe(true);
        for (const other of boxes.slice(i + 1)) expect(overlaps(box, other), `${id}: ${box.what} over ${other.what}`).toBe(false);
      }
    }
  });

  it("gives every route its own colour and keeps it on the page", () => {
    const overviewLines = elements(chart("overview"), "polyline", "series-line");
    expect(overviewLines.map((l) => l["data-series"])).toEqual(report.routes.map((r) => r.route));
    const colours = overviewLines.map((l) => l.stroke!.toLowerCase());
    expect(new Set(colours).size).toBe(report.routes.length);
    for (const [i, r] of report.routes.entries()) {
      for (const id of [`time ${r.route}`, `spectrum ${r.route}`]) {
        for (const line of elements(chart(id), "polyline", "series-line")) expect(line.stroke!.toLowerCase(), id).toBe(colours[i]);
      }
      const swatch = new RegExp(`<tr data-route="${r.route.replace(/[/*]/g, "\\$&")}"><td><span class="swatch" style="background:([^"]+)">`).exec(html)?.[1];
      expect(swatch?.toLowerCase()).toBe(colours[i]);
    }
  });

  it("draws the spectrum up to a max line that no percentile point passes", () => {
    for (const r of report.routes) {
      const svg = chart(`spectrum ${r.route}`);
      const max = elements(svg, "line", "max");
      expect(max).toHaveLength(1);
      expect(num(max[0]!, "data-ms")).toBe(r.max_ms);
      const points = elements(svg, "polyline", "series-line")[0]!.points!.split(" ").map((p) => Number(p.split(",")[1]));
      for (const y of points) expect(y).toBeGreaterThanOrEqual(num(max[0]!, "y1") - 0.05);
    }
  });
});
