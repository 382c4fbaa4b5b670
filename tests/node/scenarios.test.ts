import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const definitions = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), "../../load/scenarios.json"), "utf8"));

describe("load scenarios", () => {
  it("carry the seeds' SLO thresholds", () => {
    expect(definitions.slo.failure_rate_max).toBe(0.001);
    expect(definitions.slo.p95_ms["GET /o/:addr"]).toBe(80);
    expect(definitions.slo.p95_ms["POST /put"]).toBe(120);
    expect(definitions.slo.p95_ms["POST /webhooks/:provider"]).toBe(120);
  });

  it("use the seeds' figure where it is stricter: overlay 1 MiB fetch 120 ms, workerd RSS 512 MiB", () => {
    expect(definitions.slo.p95_ms["overlay fetch 1 MiB"]).toBe(120);
    expect(definitions.slo.workerd_rss_max_mib).toBe(512);
  });

  it("define mixed as 50% GET, 30% webhooks, 20% PUT of 4 KiB-1 MiB", () => {
    const mixed = definitions.scenarios.mixed;
    expect(mixed.mix.map((m: any) => [m.route, m.weight])).toEqual([
      ["GET /o/:addr", 50],
      ["POST /webhooks/:provider", 30],
      ["POST /put", 20],
    ]);
    const put = mixed.mix.find((m: any) => m.route === "POST /put");
    expect(Math.min(...put.payload_bytes)).toBe(4096);
    expect(Math.max(...put.payload_bytes)).toBe(1048576);
    expect(definitions.put_payloads.encodings).toEqual(["identity", "gzip", "zstd"]);
  });

  it("define read-hot, put-sizes and slots for edge and overlay", () => {
    expect(Object.keys(definitions.scenarios)).toEqual(expect.arrayContaining(["mixed", "read-hot", "put-sizes", "edge", "overlay"]));
    expect(definitions.slo.p95_ms["GET /edge/assets/*"]).toBe(40);
    expect(definitions.scenarios["put-sizes"].mix.flatMap((m: any) => m.payload_bytes)).toEqual([4096, 65536, 262144, 1048576]);
    for (const [name, s] of Object.entries<any>(definitions.scenarios)) {
      expect(s.rate, name).toBeGreaterThan(0);
      if (s.status === "ready") expect(s.mix.reduce((n: number, m: any) => n + m.weight, 0), name).toBe(100);
    }
  });
});
