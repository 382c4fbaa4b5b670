import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, putRaw, randomBytes, metricsText } from "./helpers";

const auditStub = () => {
  const namespace = env.AUDIT_LOG as unknown as DurableObjectNamespace;
  return namespace.get(namespace.idFromName("audit"));
};
const verify = async (overrides: Record<string, string> = {}) => (await call("/audit/verify", {}, overrides)).json<any>();
const recent = async (overrides: Record<string, string> = {}) => (await (await call("/audit/tail?limit=512", {}, overrides)).json<any>()).records as any[];

describe("audit log", () => {
  it("appends a hash-chained record for every PUT, with the object address", async () => {
    const response = await putRaw(randomBytes(100));
    const { address, corr_id } = await response.json<any>();
    const record = (await recent()).find((r) => r.corr_id === corr_id);
    expect(record).toMatchObject({ decision: "allow", reason: "created", b3: address, route: "/put", provider: null });
    expect(record.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(await verify()).toMatchObject({ ok: true });
  });

  it("detects a tampered record and names where the chain breaks", async () => {
    for (let i = 0; i < 3; i++) await putRaw(randomBytes(50));
    const before = await verify();
    expect(before.ok).toBe(true);
    await runInDurableObject(auditStub(), (instance) => {
      const records = (instance as unknown as { records: { seq: number; decision: string }[] }).records;
      records[records.length - 2]!.decision = "deny"; // rewrite history
    });
    const after = await verify();
    expect(after.ok).toBe(false);
    expect(after.broken_at_seq).toBe(before.last_seq - 1);
  });
});

describe("audit log bounds and segments (persistent)", () => {
  it("drops the oldest records past the capacity, counts them, and the kept chain still verifies", async () => {
    const limits = { AMNESIA: "false", AUDIT_CAPACITY: "4", AUDIT_FLUSH_RECORDS: "1000" };
    const metric = async () => Number(/^audit_drop_total (\d+)$/m.exec(await metricsText())?.[1]);
    const droppedBefore = await metric();
    for (let i = 0; i < 7; i++) await putRaw(randomBytes(30), {}, limits);
    const report = await verify(limits);
    expect(report).toMatchObject({ ok: true, records: 4 });
    expect(await metric()).toBeGreaterThanOrEqual(droppedBefore + 3);
    expect(report.last_seq - report.first_seq).toBe(3);
  });

  it("writes segments to R2 whose records chain on from each other", async () => {
    const limits = { AMNESIA: "false", AUDIT_CAPACITY: "512", AUDIT_FLUSH_RECORDS: "3" };
    for (let i = 0; i < 6; i++) await putRaw(randomBytes(20), {}, limits);
    const listed = await env.OBJECTS.list({ prefix: "audit/" });
    expect(listed.objects.length).toBeGreaterThanOrEqual(2);
    const lines: any[] = [];
    for (const object of listed.objects.sort((a, b) => a.key.localeCompare(b.key))) {
      const text = await (await env.OBJECTS.get(object.key))!.text();
      lines.push(...text.trim().split("\n").map((l) => JSON.parse(l)));
    }
    for (let i = 1; i < lines.length; i++) {
      expect(lines[i].seq).toBe(lines[i - 1].seq + 1);
      expect(lines[i].prev).toBe(lines[i - 1].hash);
    }
    expect((await verify(limits)).flushed_through_seq).toBeGreaterThanOrEqual(lines[lines.length - 1].seq);
  });
});

describe("audit batching", () => {
  const batches = async () => Number(/^background_batches_total\{kind="audit"\} (\d+)$/m.exec(await metricsText())?.[1] ?? Number.NaN);

  for (const [mode, vars] of [["amnesia", {}], ["persistent", { AMNESIA: "false" }]] as const) {
    it(`records concurrent PUTs with fewer calls to the log than PUTs, each record once, chained in order (${mode})`, async () => {
      const limits = { ...vars, BACKGROUND_BATCH_MS: "50", AUDIT_FLUSH_RECORDS: "1000" };
      const before = await batches();
      expect(before).toBeGreaterThanOrEqual(0);
      const responses = await Promise.all(Array.from({ length: 20 }, () => putRaw(randomBytes(64), {}, limits)));
      const corrIds = await Promise.all(responses.map(async (r) => (await r.json<any>()).corr_id as string));
      const calls = (await batches()) - before;
      expect(calls).toBeGreaterThanOrEqual(1);
      expect(calls).toBeLessThan(20);
      const records = await recent(limits);
      for (const id of corrIds) expect(records.filter((r) => r.corr_id === id)).toHaveLength(1);
      for (let i = 1; i < records.length; i++) {
        expect(records[i].seq).toBe(records[i - 1].seq + 1);
        expect(records[i].prev).toBe(records[i - 1].hash);
      }
      expect(await verify(limits)).toMatchObject({ ok: true });
    });
  }

  it("with BACKGROUND_BATCH_MS=0 still records every PUT", async () => {
    const responses = await Promise.all(Array.from({ length: 5 }, () => putRaw(randomBytes(64), {}, { BACKGROUND_BATCH_MS: "0" })));
    const records = await recent();
    const ids = await Promise.all(responses.map(async (r) => (await r.json<any>()).corr_id as string));
    for (const id of ids) expect(records.filter((x) => x.corr_id === id)).toHaveLength(1);
    expect(await verify()).toMatchObject({ ok: true });
  });
});
