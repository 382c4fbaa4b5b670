import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: plain JS modules of the load harness
import { bundleWorker } from "../../load/driver/targets.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");

/** Least squares, recomputed here from the report's own interval samples. */
function slope(points: [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0) / sxx;
}

let bundle: string;
beforeAll(() => {
  bundle = bundleWorker({ outDir: join(tmpdir(), `ron-soak-build-${process.pid}`) });
});

describe("npm run soak (a few seconds of it: shape of the report, no timing thresholds)", () => {
  it("reports intervals with p95 per route and RSS, burst drills, the RSS slope, the error budget and the RSS ceiling", async () => {
    const out = join(tmpdir(), `ron-soak-${process.pid}.json`);
    const args = ["load/soak.mjs", "--minutes", "0.3", "--interval-s", "5", "--drill-every", "2", "--rate", "mixed=8,edge=8,overlay=4", "--bundle", bundle, "--out", out];
    // exit 1 is a missed SLO on a busy machine: the shape is what this test checks
    const code = await new Promise<number>((resolve) => execFile("node", args, { cwd: ROOT, timeout: 110_000 }, (error) => resolve(error ? Number(error.code) : 0)));
    expect([0, 1]).toContain(code);
    const report = JSON.parse(readFileSync(out, "utf8"));

    expect(report.kind).toBe("soak");
    expect(report.rates).toEqual({ mixed: 8, edge: 8, overlay: 4 });
    expect(report.intervals).toHaveLength(4); // 18 s in 5 s intervals
    expect(report.intervals.map((i: any) => i.drill)).toEqual([false, true, false, true]);
    for (const row of report.intervals) {
      expect(row.requests).toBe(8 * 5 + 8 * 5 + 4 * 5);
      expect(row.rss_mib).toBeGreaterThan(10);
      expect(Object.keys(row.p95_ms)).toEqual(expect.arrayContaining(["GET /o/:addr", "POST /put", "GET /edge/assets/*", "GET /edge/tiles/*", "gossip publish 1 KiB (fanout 3)"]));
      expect(row.failures).toBe(Object.values<number>(row.failed_as).reduce((a, b) => a + b, 0));
    }

    const points = report.intervals.map((i: any) => [i.at_s / 60, i.rss_mib] as [number, number]);
    expect(report.rss.slope_mib_per_min).toBeCloseTo(slope(points), 2);
    expect(report.rss.max_bytes).toBeGreaterThanOrEqual(Math.max(...report.intervals.map((i: any) => i.rss_mib)) * 1048576 - 1048576);

    const budget = report.error_budget;
    expect(budget.slo_failure_rate).toBe(0.001);
    expect(budget.requests).toBe(report.totals.requests);
    expect(budget.spent).toBeCloseTo(budget.failures / budget.requests / 0.001, 1);

    // each drill: a 10x burst from one limiter client, refused with 429 and admitted again
    expect(report.drills.map((d: any) => d.interval)).toEqual([2, 4]);
    for (const drill of report.drills) {
      expect(drill.counts["429"]).toBeGreaterThan(0);
      expect(drill.checks.map((c: any) => c.what)).toEqual(expect.arrayContaining(["burst shed with 429", "recovery after the burst"]));
    }
    const judged = report.slo.checks.map((c: any) => c.what);
    expect(judged).toEqual(expect.arrayContaining(["workerd RSS max", "error budget spent", "p95 GET /o/:addr", "drill #2: burst shed with 429"]));
    expect(report.slo.ok).toBe(report.slo.checks.every((c: any) => c.ok));
    expect(code).toBe(report.slo.ok ? 0 : 1);
  });

  it("refuses an unknown --scenarios name or a bad --inspect port with exit 2, before serving anything", async () => {
    const run = (args: string[]) => new Promise<{ code: number; stderr: string }>((resolve) => execFile("node", ["load/soak.mjs", "--bundle", bundle, ...args], { cwd: ROOT, timeout: 30_000 }, (error, _out, stderr) => resolve({ code: error ? Number(error.code) : 0, stderr })));
    const bogus = await run(["--scenarios", "mixed,bogus"]);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toMatch(/unknown "bogus"; known: mixed, edge, overlay/);
    const port = await run(["--inspect", "http"]);
    expect(port.code).toBe(2);
    expect(port.stderr).toMatch(/--inspect must be a port number/);
  });
});
