import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { sent } from "./k6-stubs/http";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const k6Dir = join(root, "load/k6");
const definitions = JSON.parse(readFileSync(join(root, "load/scenarios.json"), "utf8"));

beforeAll(() => {
  execFileSync(process.execPath, [join(k6Dir, "make-payloads.mjs")], { stdio: "ignore" });
  // k6's init-context globals: open() reads relative to the script's folder.
  (globalThis as any).__ENV = { TOKEN: "k6-test-token" };
  (globalThis as any).open = (path: string, mode?: string) => {
    const bytes = readFileSync(join(k6Dir, path));
    return mode === "b" ? bytes : bytes.toString("utf8");
  };
});

describe("k6 against a target with default limits", () => {
  it("the drain scenario receives the webhooks' topic and acks what it got, with the token", async () => {
    const script = await import(join(k6Dir, "mixed.js"));
    expect(script.options.scenarios.drain.exec).toBe("drain");
    expect(typeof script.drain).toBe("function");
    sent.length = 0;
    script.drain();
    const [recv] = sent;
    expect(recv?.url).toBe("http://127.0.0.1:8787/mailbox/recv");
    expect(JSON.parse(recv?.body as string)).toEqual({ topic: "webhooks.github", max_messages: 100 });
    expect(recv?.params.headers.Authorization).toBe("Bearer k6-test-token");
  });

  it("-e RATE overrides the capped default", async () => {
    const lib = await import(join(k6Dir, "lib.js"));
    (globalThis as any).__ENV.RATE = "777";
    try {
      expect(lib.rateFor(definitions.scenarios["read-hot"])).toBe(777);
    } finally {
      delete (globalThis as any).__ENV.RATE;
    }
    expect(lib.rateFor(definitions.scenarios["read-hot"])).toBe(450);
  });
});

describe.each(["mixed", "read-hot", "put-sizes", "edge"])("k6 script %s", (name) => {
  it("parses and uses the shared definitions: constant arrival rate and the SLO thresholds per route", async () => {
    const script = await import(join(k6Dir, `${name}.js`));
    const scenario = definitions.scenarios[name];
    const k6Scenario = script.options.scenarios[name];
    expect(k6Scenario.executor).toBe("constant-arrival-rate");
    // the documented rate, capped so that it and the acks draining its webhooks fit 90% of a default target's 500/s
    const total = scenario.mix.reduce((n: number, m: any) => n + m.weight, 0);
    const share = scenario.mix.filter((m: any) => m.route === "POST /webhooks/:provider").reduce((n: number, m: any) => n + m.weight, 0) / total;
    expect(k6Scenario.rate).toBe(Math.min(scenario.rate, Math.floor(450 / (1 + share))));
    expect(k6Scenario.rate * (1 + share)).toBeLessThanOrEqual(450);
    // a scenario that sends webhooks also drains their topic, as a deployment's consumer would
    expect(Boolean(script.options.scenarios.drain)).toBe(share > 0);
    expect(k6Scenario.duration).toBe(`${scenario.duration_s}s`);
    const expected: Record<string, string[]> = { http_req_failed: [`rate<${definitions.slo.failure_rate_max}`] };
    for (const item of scenario.mix) expected[`http_req_duration{route:${item.route}}`] = [`p(95)<${definitions.slo.p95_ms[item.route]}`];
    expect(script.options.thresholds).toEqual(expected);
  });

  it("sends the scenario's mix, tagged by route, with signed webhooks and encoded PUTs", async () => {
    const script = await import(join(k6Dir, `${name}.js`));
    const data = script.setup();
    sent.length = 0;
    const iterations = 6000;
    for (let i = 0; i < iterations; i++) script.default(data);
    const byRoute = new Map<string, number>();
    for (const request of sent) byRoute.set(request.params.tags.route, (byRoute.get(request.params.tags.route) ?? 0) + 1);
    if (name === "edge") {
      const ranged = sent.filter((r) => r.params.headers?.Range === "bytes=0-65535").length;
      expect(Math.abs(ranged / iterations - 0.3)).toBeLessThan(0.03);
    }
    const scenario = definitions.scenarios[name];
    const total = scenario.mix.reduce((n: number, m: any) => n + m.weight, 0);
    const weights = new Map<string, number>();
    for (const m of scenario.mix) weights.set(m.route, (weights.get(m.route) ?? 0) + m.weight);
    for (const [route, weight] of weights) expect(Math.abs((byRoute.get(route) ?? 0) / iterations - weight / total), route).toBeLessThan(0.03);
    for (const request of sent) {
      expect(request.url.startsWith("http://127.0.0.1:8787/")).toBe(true);
      if (request.params.tags.route === "POST /webhooks/:provider") expect(request.params.headers["X-Hub-Signature-256"]).toMatch(/^sha256=[0-9a-f]{64}$/);
      // writes carry the capability token from -e TOKEN
      if (request.url.endsWith("/put") || request.params.tags.route === "setup") expect(request.params.headers?.Authorization).toBe("Bearer k6-test-token");
    }
    if (weights.has("POST /put")) {
      const encodings = new Set(sent.filter((r) => r.url.endsWith("/put")).map((r) => r.params.headers["Content-Encoding"] ?? "identity"));
      expect([...encodings].sort()).toEqual(["gzip", "identity", "zstd"]);
    }
  });
});
