import http from "node:http";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
// @ts-expect-error: plain JS modules of the load harness
import { startLatencyProxy } from "../../load/driver/latency-proxy.mjs";
// @ts-expect-error: plain JS modules of the load harness
import { runScenario } from "../../load/driver/load.mjs";
// @ts-expect-error: plain JS modules of the load harness
import { bundleWorker } from "../../load/driver/targets.mjs";

/** A plain upstream: answers each request with `size` bytes derived from its path. */
async function upstream(body: Buffer): Promise<{ url: string; close: () => void }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => res.end(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => server.close() };
}

function get(url: string, agent: http.Agent): Promise<{ body: Buffer; ms: number }> {
  const began = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ body: Buffer.concat(chunks), ms: performance.now() - began }));
      })
      .on("error", reject);
  });
}

describe("the latency proxy (npm run load -- <scenario> --client-rtt MS)", () => {
  it("delivers every byte in order, delays each exchange by at least the RTT, and counts one exchange per keep-alive request", async () => {
    const body = randomBytes(3 * 1024 * 1024); // many chunks: reordering would corrupt it
    const service = await upstream(body);
    const proxy = await startLatencyProxy({ target: service.url, rttMs: 40, jitterMs: 20 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(`${proxy.url}/a`, agent);
      expect(first.body.equals(body)).toBe(true);
      proxy.reset();
      const second = await get(`${proxy.url}/b`, agent);
      expect(second.body.equals(body)).toBe(true);
      // each direction waits RTT/2 ± jitter/2: at least 40 - 20 = 20 ms in all
      expect(second.ms).toBeGreaterThanOrEqual(20);
      expect(proxy.connections().map((c: { roundTrips: number }) => c.roundTrips)).toEqual([1]);
    } finally {
      agent.destroy();
      await proxy.close();
      service.close();
    }
  });

  it("refuses a target off loopback", async () => {
    await expect(startLatencyProxy({ target: "http://10.0.0.1:80", rttMs: 10 })).rejects.toThrow(/loopback/);
  });

  it("a scenario run through it reports the client network, inter-region limits and round trips per request kind", async () => {
    const bundle = bundleWorker({ outDir: join(tmpdir(), `ron-rtt-build-${process.pid}`) });
    const { report, target, client } = await runScenario({ scenario: "mixed", rate: 20, durationS: 2, bundle, clientRttMs: 30, jitterMs: 0 });
    client.close();
    await target.mf.dispose();
    expect(report.network).toMatchObject({ client_rtt_ms: 30, jitter_ms: 0 });
    // a warm request of each kind is one exchange with the service
    for (const kind of ["GET /o/:addr", "POST /put", "POST /webhooks/:provider"]) {
      expect(report.network.round_trips[kind], kind).toMatchObject({ exchanges: 1 });
      expect(report.network.round_trips[kind].ms, kind).toBeGreaterThanOrEqual(30);
    }
    const get = report.slo.checks.find((c: { what: string }) => c.what.startsWith("p95 GET /o/:addr"));
    expect(get).toMatchObject({ what: "p95 GET /o/:addr (inter-region)", limit: "110 ms" }); // 80 + 30
  }, 120_000);
});
