import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { batchSize } from "../shared/admission/token-leases";
import { amnesiaStub, ANONYMOUS, call, envelopeOf, metricsText, putRaw, randomBytes, tokenFor, trickle } from "./helpers";
import { attenuateToken } from "../shared/capability";

/** Real admission knobs (the test config lifts them for other files), one bucket per client. */
const limited = (rps: number, burst: number, extra: Record<string, string> = {}) => ({
  RATE_LIMIT_RPS: String(rps),
  RATE_LIMIT_BURST: String(burst),
  RATE_LIMIT_KEY: "header:x-client",
  RATE_LIMIT_SCOPE: "client",
  ...extra,
});
const client = () => ({ "x-client": crypto.randomUUID() });
const missing = `/o/b3:${"e".repeat(64)}`; // admitted requests answer 404
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("rate limiting (token bucket leased from the RateLimiter DO)", () => {
  it("admits the burst, then sheds with 429 RATE_LIMIT, Retry-After and retry_after_ms", async () => {
    const knobs = limited(5, 10);
    const headers = client();
    const statuses: number[] = [];
    let refused: Response | null = null;
    for (let i = 0; i < 30; i++) {
      const response = await call(missing, { headers }, knobs);
      statuses.push(response.status);
      if (response.status === 429) refused ??= response;
      else await response.arrayBuffer();
    }
    const admitted = statuses.filter((s) => s === 404).length;
    expect(admitted).toBeGreaterThanOrEqual(10);
    expect(admitted).toBeLessThanOrEqual(10 + 2); // burst + what refilled during the loop
    expect(statuses.filter((s) => s === 429).length).toBe(30 - admitted);
    const envelope = await envelopeOf(refused!);
    expect(envelope).toMatchObject({ code: "TOO_MANY_REQUESTS", reason: "RATE_LIMIT", retryable: true });
    expect(envelope.retry_after_ms).toBeGreaterThan(0);
    expect(Number(refused!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused!.headers.get("x-reason")).toBe("RATE_LIMIT");
    expect((await call("/healthz", { headers }, knobs)).status).toBe(200); // ops are never limited
  });

  it("keeps the admitted count within rate·T + burst + one lease under a 10x flood, and recovers", async () => {
    const rate = 20;
    const burst = 10;
    const knobs = limited(rate, burst);
    const headers = client();
    const started = Date.now();
    let admitted = 0;
    let sent = 0;
    while (Date.now() - started < 1500) {
      const batch = await Promise.all(Array.from({ length: 10 }, () => call(missing, { headers }, knobs)));
      sent += batch.length;
      admitted += batch.filter((r) => r.status === 404).length;
      expect(batch.every((r) => r.status === 404 || r.status === 429)).toBe(true);
      await sleep(20);
    }
    const seconds = (Date.now() - started) / 1000;
    const bound = rate * seconds + burst + batchSize({ spec: { rate, burst }, leaseMs: 50, timeoutMs: 250 });
    expect(sent).toBeGreaterThan(bound * 2); // it really was a flood
    expect(admitted).toBeLessThanOrEqual(bound);
    expect(admitted).toBeGreaterThanOrEqual(burst + rate * seconds * 0.5);
    await sleep(1000);
    expect((await call(missing, { headers }, knobs)).status).toBe(404); // recovered
  });

  it("keeps one bucket per client key: one client's flood does not limit another", async () => {
    const knobs = limited(1, 3);
    const greedy = client();
    for (let i = 0; i < 6; i++) await call(missing, { headers: greedy }, knobs);
    expect((await call(missing, { headers: greedy }, knobs)).status).toBe(429);
    expect((await call(missing, { headers: client() }, knobs)).status).toBe(404);
  });

  it("keys a client by its token's id when the token verifies, else by its IP: one flooding client does not limit another", async () => {
    const knobs = { RATE_LIMIT_RPS: "1", RATE_LIMIT_BURST: "3", RATE_LIMIT_SCOPE: "client" }; // RATE_LIMIT_KEY: auto (default)
    const flood = async (headers: Record<string, string>) => {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await call(missing, { headers }, knobs)).status);
      return statuses;
    };
    // by token: a flood from one token, from any IP, spends only that token's bucket
    const greedy = tokenFor();
    expect(await flood({ authorization: `Bearer ${greedy}`, "cf-connecting-ip": "198.51.100.1" })).toContain(429);
    expect((await call(missing, { headers: { authorization: `Bearer ${greedy}`, "cf-connecting-ip": "198.51.100.2" } }, knobs)).status).toBe(429);
    // an attenuation of it is the same client (it cannot escape its limit by attenuating)
    const narrower = attenuateToken(greedy, { ops: ["put"] });
    expect((await call(missing, { headers: { authorization: `Bearer ${narrower}`, "cf-connecting-ip": "198.51.100.3" } }, knobs)).status).toBe(429);
    // another token is another client
    expect((await call(missing, { headers: { authorization: `Bearer ${tokenFor()}`, "cf-connecting-ip": "198.51.100.1" } }, knobs)).status).toBe(404);
    // without a token (or with one that does not verify) the client is its IP
    expect(await flood({ ...ANONYMOUS, "cf-connecting-ip": "203.0.113.7" })).toContain(429);
    expect((await call(missing, { headers: { authorization: "Bearer not-a-token", "cf-connecting-ip": "203.0.113.7" } }, knobs)).status).toBe(429);
    expect((await call(missing, { headers: { ...ANONYMOUS, "cf-connecting-ip": "203.0.113.8" } }, knobs)).status).toBe(404);
    expect(await metricsText()).toMatch(/^rate_limited_total\{scope="client"\} [1-9]\d*$/m);
  });

  it("scope both: every client draws on its own bucket and on the service's, which caps them all together", async () => {
    // generous client buckets, a tiny service bucket: the service runs dry first
    const knobs = { RATE_LIMIT_RPS: "1000", RATE_LIMIT_BURST: "1000", RATE_LIMIT_SERVICE_RPS: "1", RATE_LIMIT_SERVICE_BURST: "4", RATE_LIMIT_SCOPE: "both", RATE_LIMIT_KEY: "header:x-client" };
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await call(missing, { headers: client() }, knobs)).status); // 8 different clients
    expect(statuses.filter((s) => s === 404).length).toBeGreaterThanOrEqual(4);
    expect(statuses.filter((s) => s === 404).length).toBeLessThanOrEqual(5); // the burst + what refilled
    const refused = await call(missing, { headers: client() }, knobs);
    expect(refused.status).toBe(429);
    expect(await envelopeOf(refused)).toMatchObject({ reason: "RATE_LIMIT", message: "rate limit exceeded for the service" });
    expect(await metricsText()).toMatch(/^rate_limited_total\{scope="service"\} [1-9]\d*$/m);
    // scope client alone ignores the service bucket
    expect((await call(missing, { headers: client() }, { ...knobs, RATE_LIMIT_SCOPE: "client" })).status).toBe(404);
  });

  it("places the service-wide bucket and the mailbox directory with DO_LOCATION_HINT (accepted by the runtime)", async () => {
    const hinted = { DO_LOCATION_HINT: "weur", RATE_LIMIT_SCOPE: "service" };
    expect((await call(missing, { headers: client() }, hinted)).status).toBe(404);
    const sent = await call("/mailbox/send", { method: "POST", body: JSON.stringify({ topic: `hint.${crypto.randomUUID()}`, idem_key: "k1", payload_b64: btoa("x") }), headers: { "content-type": "application/json" } }, hinted);
    expect(sent.status).toBe(200);
  });

  it("refuses an unknown scope, client key or location hint, naming the knob", async () => {
    for (const bad of [{ RATE_LIMIT_SCOPE: "global" }, { RATE_LIMIT_KEY: "service" }, { DO_LOCATION_HINT: "mars" }] as Record<string, string>[]) {
      const response = await call("/readyz", {}, bad);
      expect(response.status).toBe(503);
      expect(JSON.stringify(await response.json())).toContain(Object.keys(bad)[0]);
    }
  });

  it("leases a batch of tokens from the DO for the first request instead of one", async () => {
    // rate 1/s and a long lease: one lease period at the full rate is 10 tokens
    const knobs = limited(1, 1000, { RATE_LIMIT_KEY: "header:x-batch", RATE_LIMIT_LEASE_MS: "10000" });
    const key = crypto.randomUUID();
    expect((await call(missing, { headers: { "x-batch": key } }, knobs)).status).toBe(404);
    const namespace = env.RATE_LIMITER;
    const stub = namespace.get(namespace.idFromName(`micronode:client:${key}`));
    const left: number = await runInDurableObject(stub, (instance) => instance.available({ rate: 1, burst: 1000 }));
    expect(left).toBeLessThan(991); // 10 tokens left the bucket, not 1
    expect(left).toBeGreaterThanOrEqual(990);
  });

  it("serves a burst from one new client with a few lease calls: the waiting requests' tokens are asked for at once", async () => {
    // batches of 2 (40/s × 50 ms) from a bucket of 30: leasing a batch per renewal took 15 calls in turn
    const rate = 40;
    const burst = 30;
    const knobs = limited(rate, burst);
    const headers = client();
    const leaseCalls = async () => Number(/^rate_limit_lease_calls_total (\d+)$/m.exec(await metricsText())?.[1] ?? 0);
    const callsBefore = await leaseCalls();
    const started = Date.now();
    const statuses = await Promise.all(Array.from({ length: 80 }, async () => {
      const response = await call(missing, { headers }, knobs);
      await response.arrayBuffer();
      return response.status;
    }));
    const seconds = (Date.now() - started) / 1000;
    const calls = (await leaseCalls()) - callsBefore;
    const admitted = statuses.filter((s) => s === 404).length;
    expect(statuses.every((s) => s === 404 || s === 429)).toBe(true);
    expect(admitted).toBeGreaterThanOrEqual(burst - 2); // the waiters got the bucket, not 2 of it
    expect(admitted).toBeLessThanOrEqual(burst + rate * seconds + 2);
    expect(calls).toBeLessThanOrEqual(5);
  });

  it("holds local leases for at most RATE_LIMIT_MAX_KEYS client keys, and a dropped key is still limited", async () => {
    const knobs = limited(1, 3, { RATE_LIMIT_MAX_KEYS: "8" });
    const leases = async () => Number(/^rate_limit_leases (\d+)$/m.exec(await metricsText())?.[1]);
    const greedy = client();
    for (let i = 0; i < 4; i++) await (await call(missing, { headers: greedy }, knobs)).arrayBuffer();
    expect((await call(missing, { headers: greedy }, knobs)).status).toBe(429);
    const drainedAt = Date.now();
    // 40 new clients (a header anyone can set): each one a key
    for (let i = 0; i < 40; i++) expect((await call(missing, { headers: client() }, knobs)).status).toBe(404);
    const held = await leases();
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(8);
    // the bucket lives in its RateLimiter object: dropping the local lease did not refill it (only
    // the 1/s refill since it ran dry is admitted, however long the 40 requests took)
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await call(missing, { headers: greedy }, knobs)).status);
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s === 404).length).toBeLessThanOrEqual(Math.ceil((Date.now() - drainedAt) / 1000) + 1);
  });
});

describe("when the rate limiter fails", () => {
  it("admits reads, refuses writes with 503 NOT_READY, and /readyz reports the limiter", async () => {
    // point the limiter binding at a real Durable Object that has no lease(): every call fails
    const broken = { ...limited(100, 100), RATE_LIMITER: env.AMNESIA_STORE } as unknown as Record<string, string>;
    const headers = client();
    expect((await call(missing, { headers }, broken)).status).toBe(404);
    const write = await call("/put", { method: "POST", body: randomBytes(10), headers }, broken);
    expect(write.status).toBe(503);
    expect(await envelopeOf(write)).toMatchObject({ reason: "NOT_READY", retryable: true });
    const ready = await call("/readyz", {}, broken);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, degraded: true, missing: ["limiter"] });
    expect(await metricsText()).toMatch(/^limiter_errors_total [1-9]\d*$/m);
  });
});

describe("brownout", () => {
  it("refuses writes with 503 BROWNOUT while the recent 5xx rate is high, keeps serving reads, and clears by itself", async () => {
    // a 2 s window: the failures below may straddle a second boundary
    const knobs = { BROWNOUT_MIN_REQUESTS: "5", BROWNOUT_WINDOW_S: "2", BROWNOUT_ERROR_RATE: "0.01" };
    const good = randomBytes(64);
    const { address: goodAddress } = await (await putRaw(good)).json<any>();
    const bad = randomBytes(64);
    const { address: badAddress } = await (await putRaw(bad)).json<any>();
    await runInDurableObject(amnesiaStub(badAddress.slice(3)), (instance) => {
      (instance as unknown as { objects: Map<string, { bytes: Uint8Array }> }).objects.get(badAddress.slice(3))!.bytes[0]! ^= 1;
    });
    await sleep(2100); // start from a clean window
    for (let i = 0; i < 6; i++) expect((await call(`/o/${badAddress}`, {}, knobs)).status).toBe(502);

    const write = await putRaw(randomBytes(20), {}, knobs);
    expect(write.status).toBe(503);
    expect(await envelopeOf(write)).toMatchObject({ reason: "BROWNOUT", retryable: true });
    expect(write.headers.get("retry-after")).toBeTruthy();
    expect((await call(`/o/${goodAddress}`, {}, knobs)).status).toBe(200); // fail-open reads
    const ready = await call("/readyz", {}, knobs);
    expect(await ready.json()).toMatchObject({ ready: false, degraded: true, missing: ["brownout"] });

    await sleep(3100); // the window slides past the failures
    expect((await putRaw(randomBytes(20), {}, knobs)).status).toBe(201);
    expect((await call("/readyz", {}, knobs)).status).toBe(200);
  });
});

describe("brownout on latency", () => {
  it("pauses writes when the recent p95 passes BROWNOUT_P95_MS", async () => {
    const knobs = { BROWNOUT_MIN_REQUESTS: "5", BROWNOUT_WINDOW_S: "2", BROWNOUT_P95_MS: "1" }; // any request is "slow"
    await sleep(2100);
    for (let i = 0; i < 6; i++) await (await call(missing, {}, knobs)).arrayBuffer();
    const write = await putRaw(randomBytes(20), {}, knobs);
    expect(write.status).toBe(503);
    expect((await envelopeOf(write)).message).toMatch(/p95 above 1 ms/);
    expect((await call(missing, {}, knobs)).status).toBe(404);
  });
});

describe("truthful readiness under load", () => {
  it("reports shedding while most recent requests are shed for the node's capacity (in-flight cap), and recovers", async () => {
    const knobs = { MAX_INFLIGHT: "1", BROWNOUT_MIN_REQUESTS: "10", BROWNOUT_WINDOW_S: "2", READY_SHED_RATE: "0.5" };
    await sleep(2100);
    const slow = () => call("/put", { method: "POST", body: trickle([randomBytes(10), randomBytes(10)], 100), duplex: "half" } as RequestInit, knobs);
    const answers = await Promise.all(Array.from({ length: 20 }, slow));
    const shedCount = answers.filter((r) => r.status === 503).length;
    expect(shedCount).toBeGreaterThan(10);
    const ready = await call("/readyz", {}, knobs);
    expect(ready.status).toBe(503);
    expect((await ready.json<any>()).missing).toContain("shedding");
    await sleep(3100);
    expect((await call("/readyz", {}, knobs)).status).toBe(200);
  });

  it("stays ready while a client floods past its rate limit (a quota refusal is not the node shedding)", async () => {
    const knobs = limited(1, 1, { BROWNOUT_MIN_REQUESTS: "10", BROWNOUT_WINDOW_S: "2", READY_SHED_RATE: "0.5" });
    await sleep(2100);
    const headers = client();
    const statuses = [];
    for (let i = 0; i < 20; i++) statuses.push((await call(missing, { headers }, knobs)).status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(15);
    const ready = await call("/readyz", {}, knobs);
    expect(await ready.json()).toEqual({ ready: true });
  });

  it("stays ready while a client fills a mailbox topic and keeps sending to it (back-pressure on the topic, not the node)", async () => {
    const knobs = { WORK_QUEUE_CAPACITY: "5", BROWNOUT_MIN_REQUESTS: "10", BROWNOUT_WINDOW_S: "2", READY_SHED_RATE: "0.5" };
    await sleep(2100); // a fresh outcome window
    const topic = `ready-${crypto.randomUUID().slice(0, 8)}`;
    const send = (i: number) => call("/mailbox/send", { method: "POST", body: JSON.stringify({ topic, idem_key: `k${i}`, payload_b64: "" }), headers: { "Content-Type": "application/json" } }, knobs);
    for (let i = 0; i < 5; i++) expect((await send(i)).status).toBe(200);
    for (let i = 5; i < 25; i++) {
      const refused = await send(i);
      expect(refused.status).toBe(429);
      expect((await envelopeOf(refused)).reason).toBe("BACKPRESSURE");
    }
    const ready = await call("/readyz", {}, knobs);
    expect(await ready.json<any>()).toEqual({ ready: true });
    expect(ready.status).toBe(200);
  });
});
