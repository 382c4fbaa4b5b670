import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, putRaw, randomBytes, metricsText } from "./helpers";
import { recordDigest, type AnchorRecord, type AuditLimits, type AuditRecord } from "../durable-objects/audit-log";
import type { BoundedChain } from "../durable-objects/audit-chain";
import { isolateShard } from "../shared/audit";
import apiDoc from "../docs/API.md?raw";

const namespace = () => env.AUDIT_LOG;
const shardStub = (shard: number) => namespace().get(namespace().idFromName(`audit-${shard}`));
const anchorsStub = () => namespace().get(namespace().idFromName("audit-anchors"));
const verify = async (overrides: Record<string, string> = {}) => (await call("/audit/verify", {}, overrides)).json<any>();
const recent = async (overrides: Record<string, string> = {}) => (await (await call("/audit/tail?limit=512", {}, overrides)).json<any>()).records as any[];
/** Key order and nesting of a JSON value (arrays by their first element): what "byte-exact" documentation must match. */
const shape = (value: unknown): unknown =>
  Array.isArray(value) ? [value.length ? shape(value[0]) : null] : value && typeof value === "object" ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)])) : value === null ? "null|number" : typeof value;
/** The verdict example in docs/API.md's Audit section. */
const documentedVerdict = () => JSON.parse(/## Audit[\s\S]*?```json\n(.*)\n```/.exec(apiDoc)![1]!);
const shardOf = (report: any, shard: number) => report.shards.find((s: any) => s.shard === shard);

/** The chain an AuditLog instance holds (its fields are left open for tests to tamper with). */
type Chains = { shardChain: BoundedChain<AuditRecord> | null; anchorChain: BoundedChain<AnchorRecord> | null };
const chainsOf = (instance: unknown) => instance as Chains;

/** A shard other than this isolate's: what another isolate, having drawn it, appends to. */
const otherShard = (shards: number) => (isolateShard(shards) + 1) % shards;
/** Append as another isolate would: its batch goes straight to its shard's object. */
async function appendAsOtherIsolate(shard: number, count: number, limits: AuditLimits): Promise<void> {
  const inputs = Array.from({ length: count }, (_, i) => ({ when: new Date().toISOString(), corr_id: `other-${shard}-${Date.now()}-${i}`, provider: null, decision: "allow" as const, reason: "created", b3: null, route: "/put" }));
  await shardStub(shard).appendMany(shard, inputs, limits);
}

/** Tamper with a shard's kept records, run `check`, then put them back (later tests share the objects). */
async function withTamperedShard(shard: number, tamper: (chain: BoundedChain<AuditRecord>) => void, check: () => Promise<void>): Promise<void> {
  let saved: { records: AuditRecord[]; lastHash: string } | undefined;
  await runInDurableObject(shardStub(shard), (instance) => {
    const chain = chainsOf(instance).shardChain!;
    saved = { records: chain.records.map((r) => ({ ...r })), lastHash: chain.meta.lastHash };
    tamper(chain);
  });
  try {
    await check();
  } finally {
    await runInDurableObject(shardStub(shard), (instance) => {
      const chain = chainsOf(instance).shardChain!;
      chain.records.splice(0, chain.records.length, ...saved!.records);
      chain.meta.lastHash = saved!.lastHash;
    });
  }
}

describe("audit log", () => {
  it("appends a hash-chained record for every PUT, with the object address and this isolate's shard", async () => {
    const response = await putRaw(randomBytes(100));
    const { address, corr_id } = await response.json<any>();
    const record = (await recent()).find((r) => r.corr_id === corr_id);
    expect(record).toMatchObject({ decision: "allow", reason: "created", b3: address, route: "/put", provider: null, shard: isolateShard(8) });
    expect(record.hash).toMatch(/^[0-9a-f]{64}$/);
    const report = await verify();
    expect(report).toMatchObject({ ok: true });
    expect(report.shards.map((s: any) => s.shard)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(shardOf(report, record.shard)).toMatchObject({ ok: true, last_seq: record.seq });
  });

  it("detects a tampered record and names the shard and where its chain breaks", async () => {
    for (let i = 0; i < 3; i++) await putRaw(randomBytes(50));
    const shard = isolateShard(8);
    const before = await verify();
    expect(before.ok).toBe(true);
    await withTamperedShard(
      shard,
      (chain) => {
        chain.records[chain.records.length - 2]!.decision = "deny"; // rewrite history
      },
      async () => {
        const after = await verify();
        expect(after.ok).toBe(false);
        expect(shardOf(after, shard)).toMatchObject({ ok: false, broken_at_seq: shardOf(before, shard).last_seq - 1 });
        for (const other of after.shards.filter((s: any) => s.shard !== shard)) expect(other.ok).toBe(true);
      },
    );
    expect((await verify()).ok).toBe(true);
  });

  it("detects a record moved into another shard (the shard is part of the hashed bytes)", async () => {
    await putRaw(randomBytes(40));
    const shard = isolateShard(8);
    await withTamperedShard(
      shard,
      (chain) => {
        chain.records[chain.records.length - 1]!.shard = otherShard(8);
      },
      async () => {
        const report = await verify();
        expect(report.ok).toBe(false);
        expect(shardOf(report, shard).broken_at_seq).toBe(shardOf(report, shard).last_seq);
      },
    );
  });
});

describe("audit shards", () => {
  for (const [mode, vars] of [["amnesia", {}], ["persistent", { AMNESIA: "false" }]] as const) {
    const limits: AuditLimits = { persistent: mode === "persistent", capacity: 512, flushRecords: 1000 };
    const knobs = { ...vars, AUDIT_SHARDS: "4", AUDIT_ANCHOR_MS: "0", AUDIT_FLUSH_RECORDS: "1000" };

    it(`verifies every shard, names a tampered one in another shard, and tail merges shards by time (${mode})`, async () => {
      const mine = isolateShard(4);
      const other = otherShard(4);
      await putRaw(randomBytes(30), {}, knobs);
      await appendAsOtherIsolate(other, 3, limits);
      await putRaw(randomBytes(30), {}, knobs);
      const report = await verify(knobs);
      expect(report.ok).toBe(true);
      expect(report.shards).toHaveLength(4);
      expect(shardOf(report, mine).records).toBeGreaterThanOrEqual(2);
      expect(shardOf(report, other).records).toBeGreaterThanOrEqual(3);
      expect(report.records).toBe(report.shards.reduce((sum: number, s: any) => sum + s.records, 0));

      const tail = await recent(knobs);
      expect(new Set(tail.map((r) => r.shard))).toEqual(new Set([mine, other].filter((s) => tail.some((r) => r.shard === s))));
      expect(tail.some((r) => r.shard === mine) && tail.some((r) => r.shard === other)).toBe(true);
      for (let i = 1; i < tail.length; i++) expect(tail[i].when >= tail[i - 1].when).toBe(true);
      for (const shard of [mine, other]) {
        const chain = tail.filter((r) => r.shard === shard);
        for (let i = 1; i < chain.length; i++) expect(chain[i].prev).toBe(chain[i - 1].hash);
      }
      const three = (await (await call("/audit/tail?limit=3", {}, knobs)).json<any>()).records;
      expect(three).toEqual(tail.slice(-3));

      await withTamperedShard(
        other,
        (chain) => {
          chain.records[chain.records.length - 3]!.reason = "forged";
        },
        async () => {
          const after = await verify(knobs);
          expect(after.ok).toBe(false);
          expect(shardOf(after, other)).toMatchObject({ ok: false, broken_at_seq: shardOf(report, other).last_seq - 2 });
          expect(shardOf(after, mine).ok).toBe(true);
        },
      );
    });

    it(`catches a shard re-chained consistently through the anchors (${mode})`, async () => {
      const shard = isolateShard(4);
      for (let i = 0; i < 3; i++) await putRaw(randomBytes(30), {}, knobs);
      const before = await verify(knobs);
      expect(before.ok).toBe(true);
      expect(before.anchors).toMatchObject({ ok: true, mismatched: [] });
      expect(before.anchors.records).toBeGreaterThanOrEqual(1);
      const anchored = await runInDurableObject(anchorsStub(), (instance) => structuredClone(chainsOf(instance).anchorChain!.records.at(-1)!));
      const head = anchored.heads.find((h) => h.shard === shard)!;
      expect(head.seq).toBe(shardOf(before, shard).last_seq);

      await withTamperedShard(
        shard,
        (chain) => {
          // rewrite the oldest kept record and recompute every hash after it: the shard alone still verifies
          chain.records[0]!.decision = chain.records[0]!.decision === "allow" ? "deny" : "allow";
          let prev = chain.meta.anchor;
          for (const r of chain.records) {
            r.prev = prev;
            r.hash = recordDigest(prev, r);
            prev = r.hash;
          }
          chain.meta.lastHash = prev;
        },
        async () => {
          const after = await verify(knobs);
          expect(shardOf(after, shard)).toMatchObject({ ok: true });
          expect(after.ok).toBe(false);
          expect(after.anchors.ok).toBe(false);
          expect(after.anchors.mismatched).toContainEqual({ anchor_seq: expect.any(Number), shard, seq: head.seq });
          expect(after.anchors.mismatched.every((m: any) => m.shard === shard)).toBe(true);
          // the answer docs/API.md shows, field for field and in that order
          const documented = documentedVerdict();
          expect(JSON.stringify(shape({ ...after, shards: [shardOf(after, shard)] }))).toBe(JSON.stringify(shape({ ...documented, shards: [documented.shards[0]] })));
        },
      );
      expect((await verify(knobs)).ok).toBe(true);
    });

    it(`detects a tampered anchor record (${mode})`, async () => {
      await putRaw(randomBytes(30), {}, knobs);
      const before = await verify(knobs);
      expect(before.anchors.ok).toBe(true);
      let saved: string | undefined;
      await runInDurableObject(anchorsStub(), (instance) => {
        const last = chainsOf(instance).anchorChain!.records.at(-1)!;
        saved = last.when;
        last.when = "2000-01-01T00:00:00.000Z";
      });
      const after = await verify(knobs);
      expect(after.ok).toBe(false);
      expect(after.anchors).toMatchObject({ ok: false, broken_at_seq: before.anchors.last_seq });
      await runInDurableObject(anchorsStub(), (instance) => void (chainsOf(instance).anchorChain!.records.at(-1)!.when = saved!));
    });
  }

  it("anchors at most once per AUDIT_ANCHOR_MS, after a batch, when a head moved", async () => {
    // an interval far above a PUT and a verify, so the second PUT surely falls inside it on a busy machine
    const knobs = { AUDIT_SHARDS: "4", AUDIT_ANCHOR_MS: "1500" };
    const anchors = async () => (await verify(knobs)).anchors.last_seq as number | null;
    await new Promise((r) => setTimeout(r, 1600));
    await putRaw(randomBytes(20), {}, knobs);
    const first = await anchors();
    expect(first).not.toBeNull();
    await putRaw(randomBytes(20), {}, knobs); // the head moved, but within the interval
    expect(await anchors()).toBe(first);
    await new Promise((r) => setTimeout(r, 1600));
    await putRaw(randomBytes(20), {}, knobs);
    expect(await anchors()).toBe(first! + 1);
    const report = await verify(knobs);
    const last = await runInDurableObject(anchorsStub(), (instance) => structuredClone(chainsOf(instance).anchorChain!.records.at(-1)!));
    expect(last.heads).toContainEqual({ shard: isolateShard(4), seq: shardOf(report, isolateShard(4)).last_seq, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it("anchors with DO_LOCATION_HINT set (the anchor chain is the one deployment-wide audit object)", async () => {
    const knobs = { AUDIT_SHARDS: "4", AUDIT_ANCHOR_MS: "0", DO_LOCATION_HINT: "weur" };
    const before = (await verify(knobs)).anchors.last_seq ?? 0;
    await putRaw(randomBytes(20), {}, knobs);
    const after = await verify(knobs);
    expect(after.anchors).toMatchObject({ ok: true, last_seq: before + 1 });
  });

  it("rejects a bad tail limit with 400", async () => {
    for (const limit of ["0", "513", "1.5", "x"]) {
      const response = await call(`/audit/tail?limit=${limit}`);
      expect(response.status).toBe(400);
      expect((await response.json<any>()).reason).toBe("bad_limit");
    }
  });
});

describe("audit log bounds and segments (persistent)", () => {
  it("drops the oldest records past the capacity, counts them, and the kept chain still verifies", async () => {
    const limits = { AMNESIA: "false", AUDIT_CAPACITY: "4", AUDIT_FLUSH_RECORDS: "1000" };
    const metric = async () => Number(/^audit_drop_total (\d+)$/m.exec(await metricsText())?.[1]);
    const droppedBefore = await metric();
    for (let i = 0; i < 7; i++) await putRaw(randomBytes(30), {}, limits);
    const report = await verify(limits);
    const shard = shardOf(report, isolateShard(8));
    expect(report).toMatchObject({ ok: true });
    expect(shard).toMatchObject({ ok: true, records: 4 });
    expect(await metric()).toBeGreaterThanOrEqual(droppedBefore + 3);
    expect(shard.last_seq - shard.first_seq).toBe(3);
  });

  it("writes each shard's segments to R2 under its own prefix, chaining on from each other", async () => {
    const knobs = { AMNESIA: "false", AUDIT_CAPACITY: "512", AUDIT_FLUSH_RECORDS: "3" };
    const mine = isolateShard(8);
    const other = otherShard(8);
    for (let i = 0; i < 6; i++) await putRaw(randomBytes(20), {}, knobs);
    for (let i = 0; i < 2; i++) await appendAsOtherIsolate(other, 3, { persistent: true, capacity: 512, flushRecords: 3 });
    for (const shard of [mine, other]) {
      const listed = await env.OBJECTS.list({ prefix: `audit/${shard}/` });
      expect(listed.objects.length).toBeGreaterThanOrEqual(2);
      const lines: any[] = [];
      for (const object of listed.objects.sort((a, b) => a.key.localeCompare(b.key))) {
        const text = await (await env.OBJECTS.get(object.key))!.text();
        lines.push(...text.trim().split("\n").map((l) => JSON.parse(l)));
      }
      for (const line of lines) expect(line.shard).toBe(shard);
      for (let i = 1; i < lines.length; i++) {
        expect(lines[i].seq).toBe(lines[i - 1].seq + 1);
        expect(lines[i].prev).toBe(lines[i - 1].hash);
      }
      expect(shardOf(await verify(knobs), shard).flushed_through_seq).toBeGreaterThanOrEqual(lines[lines.length - 1].seq);
    }
  });

  it("writes anchor records to R2 under audit/anchors/, chained", async () => {
    const knobs = { AMNESIA: "false", AUDIT_FLUSH_RECORDS: "1", AUDIT_ANCHOR_MS: "0" };
    for (let i = 0; i < 3; i++) await putRaw(randomBytes(20), {}, knobs);
    const listed = await env.OBJECTS.list({ prefix: "audit/anchors/" });
    expect(listed.objects.length).toBeGreaterThanOrEqual(2);
    const lines: any[] = [];
    for (const object of listed.objects.sort((a, b) => a.key.localeCompare(b.key))) lines.push(...(await (await env.OBJECTS.get(object.key))!.text()).trim().split("\n").map((l) => JSON.parse(l)));
    for (let i = 1; i < lines.length; i++) expect(lines[i].prev).toBe(lines[i - 1].hash);
    expect(lines.at(-1).heads).toContainEqual(expect.objectContaining({ shard: isolateShard(8) }));
    expect((await verify(knobs)).anchors.ok).toBe(true);
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
      const records = (await recent(limits)).filter((r) => r.shard === isolateShard(8));
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
