// A file of its own: fresh Durable Object storage and R2, so every shard's persisted chain starts at seq 1 here.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, putRaw, randomBytes } from "./helpers";
import { isolateShard } from "../shared/audit";

const namespace = () => env.AUDIT_LOG;
const shardStub = (shard: number) => namespace().get(namespace().idFromName(`audit-${shard}`));
const segmentLines = async (key: string) => (await (await env.OBJECTS.get(key))!.text()).trim().split("\n").map((l) => JSON.parse(l));

describe("audit segments per shard (persistent)", () => {
  it("two shards' segments over the same seqs land under different keys, neither overwriting the other", async () => {
    const knobs = { AMNESIA: "false", AUDIT_SHARDS: "4", AUDIT_FLUSH_RECORDS: "3" };
    const mine = isolateShard(4);
    const other = (mine + 1) % 4;
    for (let i = 0; i < 3; i++) await putRaw(randomBytes(20), {}, knobs);
    // the other shard, as another isolate that drew it writes it: one batch of 3
    const inputs = Array.from({ length: 3 }, (_, i) => ({ when: new Date().toISOString(), corr_id: `other-${i}`, provider: null, decision: "allow" as const, reason: "created", b3: null, route: "/put" }));
    await shardStub(other).appendMany(other, inputs, { persistent: true, capacity: 512, flushRecords: 3 });

    const keys = (await env.OBJECTS.list({ prefix: "audit/" })).objects.map((o) => o.key);
    expect(keys).toContain(`audit/${mine}/000000000001-000000000003.jsonl`);
    expect(keys).toContain(`audit/${other}/000000000001-000000000003.jsonl`);
    for (const shard of [mine, other]) {
      const lines = await segmentLines(`audit/${shard}/000000000001-000000000003.jsonl`);
      expect(lines.map((l) => [l.shard, l.seq])).toEqual([[shard, 1], [shard, 2], [shard, 3]]);
    }
    expect((await segmentLines(`audit/${other}/000000000001-000000000003.jsonl`)).map((l) => l.corr_id)).toEqual(["other-0", "other-1", "other-2"]);
    const report = await (await call("/audit/verify", {}, knobs)).json<any>();
    expect(report).toMatchObject({ ok: true });
    for (const shard of [mine, other]) expect(report.shards[shard]).toMatchObject({ ok: true, records: 3, flushed_through_seq: 3 });
  });
});
