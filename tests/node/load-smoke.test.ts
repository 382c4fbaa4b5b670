import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: plain JS modules of the load harness
import { measureColdStart } from "../../load/driver/cold-start.mjs";
// @ts-expect-error: plain JS modules of the load harness
import { runScenario } from "../../load/driver/load.mjs";
// @ts-expect-error: plain JS modules of the load harness
import { renderHtml } from "../../load/driver/report-html.mjs";
// @ts-expect-error: plain JS modules of the load harness
import { bundleWorker } from "../../load/driver/targets.mjs";

/** A short smoke of the harness (the real runs are `npm run load`, `npm run perf:gate`). */
let bundle: string;
beforeAll(() => {
  bundle = bundleWorker({ outDir: join(tmpdir(), `ron-smoke-build-${process.pid}`) });
});

describe("load harness smoke", () => {
  it("drives the mixed scenario at a fixed rate and reports per-route figures, SLO and server memory", async () => {
    const { report, target, client } = await runScenario({ scenario: "mixed", rate: 60, durationS: 2, bundle });
    client.close();
    await target.mf.dispose();
    expect(report.totals.requests).toBe(120);
    expect(report.totals.failure_rate).toBe(0);
    expect(report.routes.map((r: any) => r.route).sort()).toEqual(["GET /o/:addr", "POST /put", "POST /webhooks/:provider"]);
    for (const r of report.routes) {
      expect(r.p50_ms).toBeGreaterThan(0);
      expect(r.p95_ms).toBeGreaterThanOrEqual(r.p50_ms);
      expect(r.p99_ms).toBeGreaterThanOrEqual(r.p95_ms);
      expect(r.timeline.length).toBeGreaterThan(0);
    }
    expect(report.slo.checks.length).toBe(5);
    expect(report.slo.checks.map((c: any) => c.what)).toContain("workerd RSS max");
    expect(report.server.rss_ceiling).toMatchObject({ what: "workerd RSS max", limit: "512 MiB" });
    expect(report.server.rss_max_bytes).toBeGreaterThan(10 * 1024 * 1024);
    const html = renderHtml(report);
    expect(html).toContain("<svg");
    expect(html).toContain("POST /webhooks/:provider");
  });

  it("drives the edge scenario (assets, ranges, tiles) with no failures", async () => {
    const { report, target, client } = await runScenario({ scenario: "edge", rate: 60, durationS: 2, bundle });
    try {
      expect(report.totals.failure_rate).toBe(0);
      expect(report.routes.map((r: any) => r.route).sort()).toEqual(["GET /edge/assets/*", "GET /edge/tiles/*"]);
      // concurrent first requests from separate connections: workerd refuses cross-request I/O
      const tiles = await Promise.all(Array.from({ length: 20 }, (_, i) => fetch(`${target.url}/edge/tiles/load/3/${i % 8}/${i % 5}.mvt`)));
      expect(tiles.map((r) => r.status)).toEqual(new Array(20).fill(200));
    } finally {
      client.close();
      await target.mf.dispose();
    }
  });

  it("drives the overlay scenario over real WebSocket sessions: handshakes, gossip deliveries, 64 KiB and 1 MiB fetches", async () => {
    const { report, target, client } = await runScenario({ scenario: "overlay", rate: 40, durationS: 3, bundle });
    client.close();
    await target.mf.dispose();
    const routes = Object.fromEntries(report.routes.map((r: any) => [r.route, r]));
    expect(Object.keys(routes).sort()).toEqual([
      "WS handshake classical",
      "WS handshake hybrid",
      "gossip publish 1 KiB (fanout 3)",
      "gossip publish 1 KiB (fanout 3) delivery",
      "overlay fetch 1 MiB",
      "overlay fetch 64 KiB",
    ]);
    for (const r of report.routes) expect(r.failures, r.route).toBe(0);
    // every measured publish reached each of the 3 subscribers exactly once (missing/duplicate would fail)
    expect(routes["gossip publish 1 KiB (fanout 3) delivery"].requests).toBe(3 * routes["gossip publish 1 KiB (fanout 3)"].requests);
    expect(routes["WS handshake hybrid"].requests + routes["WS handshake classical"].requests).toBeGreaterThan(0);
    expect(report.slo.checks.map((c: any) => c.what)).toContain("p95 WS handshake hybrid");
    // the gossip summary sets what arrived against the service's own counters over the run
    const gossip = report.gossip;
    expect(gossip.expected).toBe(routes["gossip publish 1 KiB (fanout 3) delivery"].requests);
    expect(gossip).toMatchObject({ delivered: gossip.expected, missing: 0, duplicated: 0, told_missed: 0, evictions: 0 });
    expect(gossip.server.delivered).toBeGreaterThanOrEqual(gossip.delivered);
    expect(gossip.server.dropped).toEqual({});
  });

  it("drives gossip-max: gossip alone, 8 subscribers at fanout 3, every delivery accounted for", async () => {
    const { report, target, client } = await runScenario({ scenario: "gossip-max", rate: 40, durationS: 2, bundle });
    client.close();
    await target.mf.dispose();
    expect(report.routes.map((r: any) => r.route).sort()).toEqual(["gossip publish 1 KiB (fanout 3)", "gossip publish 1 KiB (fanout 3) delivery"]);
    const publishes = report.routes.find((r: any) => r.route === "gossip publish 1 KiB (fanout 3)").requests;
    expect(report.gossip).toMatchObject({ expected: 8 * publishes, delivered: 8 * publishes, missing: 0, duplicated: 0 });
    // what the service wrote covers the measured deliveries (relay hops included: 8 sessions each)
    expect(report.gossip.server.delivered).toBeGreaterThanOrEqual(8 * publishes);
    expect(report.generator.cpu_seconds).toBeGreaterThan(0);
  });

  it("runs a closed-loop max-throughput pass", async () => {
    const { report, target, client } = await runScenario({ scenario: "read-hot", max: true, connections: 4, durationS: 1, bundle });
    client.close();
    await target.mf.dispose();
    expect(report.totals.achieved_rps).toBeGreaterThan(50);
    expect(report.slo).toBeNull();
    // no latency SLO in max mode, but the RSS ceiling is judged on every run
    expect(report.server.rss_ceiling.what).toBe("workerd RSS max");
    expect(report.server.rss_ceiling.ok).toBe(report.server.rss_max_bytes <= 512 * 1048576);
  });

  it("measures a cold start to the first /readyz 200", async () => {
    const cold = await measureColdStart(bundle, 1);
    expect(cold.ready_ms.median).toBeGreaterThan(0);
    expect(cold.first_request_ms.median).toBeGreaterThan(0);
    expect(cold.bundle.gzip_bytes).toBeGreaterThan(1000);
  });
});
