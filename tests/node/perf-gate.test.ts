import { describe, expect, it } from "vitest";
import { compareRuns, median } from "../../load/gate/compare.mjs";

const limits = { p95_rise: 0.1, throughput_fall: 0.1, memory_rise: 0.15, cold_start_rise: 0.15, p95_floor_ms: 2, cpu_per_request_rise: 0.1, shed_rate_rise_pp: 0.5 };
const run = (over: Partial<{ p95: number; rps: number; rss: number; cold: number; cpu: number; shed: number }> = {}) => ({
  p95_ms: { "GET /o/:addr": over.p95 ?? 5, "POST /put": 30 },
  throughput_rps: over.rps ?? 2000,
  rss_max_bytes: over.rss ?? 200e6,
  cold_start_ms: over.cold ?? 1200,
  cpu_ms_per_request: { mixed: over.cpu ?? 1.5 },
  shed_rate: { mixed: over.shed ?? 0 },
});
const failing = (verdict: ReturnType<typeof compareRuns>) => verdict.checks.filter((c) => !c.ok).map((c) => c.metric);

describe("perf gate verdict", () => {
  it("takes medians, so one outlier round does not decide", () => {
    expect(median([1, 100, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(compareRuns([run(), run(), run()], [run({ p95: 50 }), run(), run()], limits).ok).toBe(true);
  });

  it("passes an unchanged build with ordinary noise", () => {
    const verdict = compareRuns([run({ p95: 5 }), run({ rps: 1950 })], [run({ p95: 5.4 }), run({ rps: 2040 })], limits);
    expect(verdict.ok).toBe(true);
  });

  it("fails a 20 ms delay on GET /o", () => {
    const verdict = compareRuns([run(), run(), run()], [run({ p95: 26 }), run({ p95: 25 }), run({ p95: 27 })], limits);
    expect(verdict.ok).toBe(false);
    expect(failing(verdict)).toEqual(["p95 GET /o/:addr"]);
  });

  it("ignores p95 rises under the absolute floor, however large in percent", () => {
    expect(compareRuns([run({ p95: 1 })], [run({ p95: 2.5 })], limits).ok).toBe(true);
  });

  it.each([
    ["throughput req/s", run({ rps: 1700 })],
    ["server RSS bytes", run({ rss: 240e6 })],
    ["cold start ms", run({ cold: 1450 })],
    ["CPU ms/request mixed", run({ cpu: 1.7 })],
    ["shed rate mixed", run({ shed: 0.006 })],
  ])("fails when %s passes its limit", (metric, head) => {
    expect(failing(compareRuns([run()], [head], limits))).toEqual([metric]);
  });

  it("passes a shed rate rise under half a percentage point, and compares only what both sides measured", () => {
    expect(compareRuns([run()], [run({ shed: 0.004 })], limits).ok).toBe(true);
    const older = { ...run(), p95_ms: { "GET /o/:addr": 5 }, cpu_ms_per_request: {}, shed_rate: {} };
    const verdict = compareRuns([older], [run({ cpu: 9, shed: 0.5 })], limits);
    expect(verdict.checks.map((c) => c.metric)).toEqual(["p95 GET /o/:addr", "throughput req/s", "server RSS bytes", "cold start ms"]);
  });

  it("fails when a side produced no figure", () => {
    expect(compareRuns([run()], [{ ...run(), throughput_rps: NaN }], limits).ok).toBe(false);
  });
});
