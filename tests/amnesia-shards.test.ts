/**
 * The amnesia store split over AMNESIA_SHARDS Durable Objects (`amnesia-<i>`): objects by address,
 * edge asset pointers by name, each shard with AMNESIA_MAX_BYTES / AMNESIA_SHARDS. Every check
 * looks into the shard objects themselves (runInDurableObject, or RPC on their stubs).
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { shardOfPointer } from "../shared/store/amnesia-shards";
import { addressOf, amnesiaShardStats, amnesiaShardStub, call, envelopeOf, metricsText, putRaw, randomBytes } from "./helpers";

const unique = () => crypto.randomUUID().slice(0, 8);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** The shard the spec puts an address in: its leading 32 bits modulo the shard count (computed here, not by the router). */
const specShard = (hex: string, shards: number) => Number.parseInt(hex.slice(0, 8), 16) % shards;

/** Addresses (hex) of the objects shard `index` holds, read inside the shard object. */
const heldBy = (index: number) =>
  runInDurableObject(amnesiaShardStub(index), (instance) => [...(instance as unknown as { objects: Map<string, unknown> }).objects.keys()]);

/** Random bytes of `size` whose address routes to `shard` of `shards`. */
function bytesForShard(shard: number, shards: number, size: number): Uint8Array {
  for (;;) {
    const bytes = randomBytes(size);
    if (specShard(addressOf(bytes).slice(3), shards) === shard) return bytes;
  }
}

/** A layout of 4 shards with `headroom` bytes free in the fullest one (the shards hold what earlier tests left). */
async function fourShards(headroom: number) {
  const used = await Promise.all(range(4).map(async (index) => (await amnesiaShardStats(index)).usedBytes));
  const share = Math.max(...used) + headroom;
  return { used, share, knobs: { AMNESIA_SHARDS: "4", AMNESIA_MAX_BYTES: String(4 * share) } };
}

describe("amnesia shards: routing", () => {
  it("keeps each object in the one shard its address picks, and nowhere else", async () => {
    const knobs = { AMNESIA_SHARDS: "4" };
    const objects = range(12).map(() => randomBytes(200));
    for (const bytes of objects) expect((await putRaw(bytes, {}, knobs)).status).toBe(201);

    const held = await Promise.all(range(16).map(heldBy)); // beyond the 4: shards of other layouts
    for (const bytes of objects) {
      const hex = addressOf(bytes).slice(3);
      const holders = range(16).filter((index) => held[index]!.includes(hex));
      expect(holders).toEqual([specShard(hex, 4)]);
      expect(await (await call(`/o/b3:${hex}`, {}, knobs)).arrayBuffer()).toEqual(bytes.buffer);
    }
    // twelve uniform addresses over four shards: all in one would be a 1 in 4^11 event
    expect(new Set(objects.map((bytes) => specShard(addressOf(bytes).slice(3), 4))).size).toBeGreaterThan(1);
  });

  it("streams a PUT /o into its shard, outboard included", async () => {
    const knobs = { AMNESIA_SHARDS: "4" };
    const bytes = randomBytes(40_000);
    const address = addressOf(bytes);
    const put = await call(`/o/${address}`, { method: "PUT", body: bytes, headers: { "Content-Length": String(bytes.length) } }, knobs);
    expect(put.status).toBe(201);
    const shard = specShard(address.slice(3), 4);
    const outboard = await runInDurableObject(amnesiaShardStub(shard), (instance) => (instance as unknown as { objects: Map<string, { outboard?: Uint8Array }> }).objects.get(address.slice(3))?.outboard);
    expect(outboard?.length).toBeGreaterThan(0);
    expect(await (await call(`/o/${address}`, { headers: { Range: "bytes=30000-30009" } }, knobs)).arrayBuffer()).toEqual(bytes.slice(30000, 30010).buffer);
  });

  it("keeps each edge asset pointer in the one shard its name picks", async () => {
    const knobs = { AMNESIA_SHARDS: "4" };
    const paths = range(10).map((i) => `sharded-${unique()}/${i}.txt`);
    for (const path of paths) expect((await call(`/edge/assets/${path}`, { method: "PUT", body: path }, knobs)).status).toBe(201);
    for (const path of paths) {
      const name = `edge:${path}`;
      const found = await Promise.all(range(4).map((index) => (amnesiaShardStub(index) as unknown as { getPointer(n: string): Promise<string | null> }).getPointer(name)));
      expect(range(4).filter((index) => found[index] !== null)).toEqual([shardOfPointer(name, 4)]);
      expect(await (await call(`/edge/assets/${path}`, {}, knobs)).text()).toBe(path);
    }
    expect(new Set(paths.map((path) => shardOfPointer(`edge:${path}`, 4))).size).toBeGreaterThan(1);
  });

  it("with AMNESIA_SHARDS=1 keeps everything in one object under the whole budget, as before", async () => {
    const knobs = { AMNESIA_SHARDS: "1", AMNESIA_MAX_BYTES: "5000001" };
    const objects = range(6).map(() => randomBytes(300));
    for (const bytes of objects) expect((await putRaw(bytes, {}, knobs)).status).toBe(201);
    const [first, second] = await Promise.all([heldBy(0), heldBy(1)]);
    for (const bytes of objects) {
      expect(first).toContain(addressOf(bytes).slice(3));
      expect(second).not.toContain(addressOf(bytes).slice(3));
      expect((await call(`/o/${addressOf(bytes)}`, {}, knobs)).status).toBe(200);
    }
    const text = await metricsText({}, knobs);
    expect(text).toMatch(/^object_store_budget_bytes\{store="amnesia"\} 5000001$/m);
  });
});

describe("amnesia shards: budgets", () => {
  it("refuses a write whose shard is full with 503 STORE_FULL naming the shard, while other shards still take writes", async () => {
    const { used, share, knobs } = await fourShards(8000);
    // leave shard 0 with 500 bytes free
    const filler = bytesForShard(0, 4, share - used[0]! - 500);
    expect((await putRaw(filler, {}, knobs)).status).toBe(201);

    const over = bytesForShard(0, 4, 1000);
    const refused = await putRaw(over, {}, knobs);
    expect(refused.status).toBe(503);
    const envelope = await envelopeOf(refused);
    expect(envelope).toMatchObject({ code: "STORE_FULL", reason: "SHARD_FULL", retryable: false });
    expect(envelope.message).toContain(`amnesia shard amnesia-0 is full (${share - 500} of ${share} bytes used`);
    // the streamed PUT is refused by the same shard, before any byte is kept
    const streamed = await call(`/o/${addressOf(over)}`, { method: "PUT", body: over, headers: { "Content-Length": String(over.length) } }, knobs);
    expect(streamed.status).toBe(503);
    expect(await envelopeOf(streamed)).toMatchObject({ code: "STORE_FULL", reason: "SHARD_FULL" });
    expect((await call(`/o/${addressOf(over)}`, {}, knobs)).status).toBe(404);
    expect((await amnesiaShardStats(0)).usedBytes).toBe(share - 500);

    // the same size routed elsewhere fits: the budget is per shard, not one pool
    expect((await putRaw(bytesForShard(1, 4, 1000), {}, knobs)).status).toBe(201);
    expect((await putRaw(bytesForShard(0, 4, 400), {}, knobs)).status).toBe(201); // what fits shard 0 still fits
  });

  it("refuses an edge asset pointer whose shard is full", async () => {
    const { used, share, knobs } = await fourShards(1500);
    // pointers whose names route to the fullest shard (1500 bytes free), until it refuses one
    const target = used.indexOf(Math.max(...used));
    const names: string[] = [];
    for (let i = 0; names.length < 40; i++) {
      const path = `ptr-${unique()}-${i}.txt`;
      if (shardOfPointer(`edge:${path}`, 4) === target) names.push(path);
    }
    const body = randomBytes(10);
    const bodyShard = specShard(addressOf(body).slice(3), 4);
    const statuses: number[] = [];
    for (const path of names) {
      const response = await call(`/edge/assets/${path}`, { method: "PUT", body }, knobs);
      statuses.push(response.status);
      if (response.status === 503) {
        expect(await envelopeOf(response)).toMatchObject({ code: "STORE_FULL", reason: "SHARD_FULL", message: expect.stringContaining(`amnesia-${target}`) });
        break;
      }
    }
    expect(statuses.at(-1)).toBe(503);
    expect(statuses.slice(0, -1).every((status) => status === 201)).toBe(true);
    expect((await amnesiaShardStats(target)).usedBytes).toBeLessThanOrEqual(share);
    expect((await amnesiaShardStats(target)).usedBytes).toBeGreaterThan(used[target]! + (bodyShard === target ? 10 : 0));
  });
});

describe("amnesia shards: readiness and metrics", () => {
  it("degrades store_capacity when the fullest shard cannot take a full-size body, though the shards together could", async () => {
    const { used, share, knobs } = await fourShards(9000);
    const fullBody = { ...knobs, MAX_BODY_BYTES: "2000" };
    expect((await call("/readyz", {}, fullBody)).status).toBe(200);
    expect((await putRaw(bytesForShard(3, 4, share - used[3]! - 1000), {}, knobs)).status).toBe(201);
    const ready = await call("/readyz", {}, fullBody);
    expect(ready.status).toBe(503);
    const report = await ready.json<{ degraded: boolean; missing: string[]; detail: Record<string, string> }>();
    expect(report).toMatchObject({ degraded: true, missing: ["store_capacity"] });
    expect(report.detail.store_capacity).toMatch(/^amnesia shard amnesia-3 has 1000 of \d+ bytes free \(\d+ of \d+ in all 4\)$/);
  });

  it("reports bytes and budget summed over the shards and the fullest shard on /metrics (no per-shard series)", async () => {
    const knobs = { AMNESIA_SHARDS: "4", AMNESIA_MAX_BYTES: "50000003" };
    await putRaw(randomBytes(999), {}, knobs);
    const used = await Promise.all(range(4).map(async (index) => (await amnesiaShardStats(index)).usedBytes));
    const text = await metricsText({}, knobs);
    expect(text).toMatch(new RegExp(`^object_store_bytes\\{store="amnesia"\\} ${used.reduce((a, b) => a + b, 0)}$`, "m"));
    expect(text).toMatch(new RegExp(`^object_store_budget_bytes\\{store="amnesia"\\} ${4 * Math.floor(50000003 / 4)}$`, "m"));
    expect(text).toMatch(new RegExp(`^object_store_fullest_shard_bytes\\{store="amnesia"\\} ${Math.max(...used)}$`, "m"));
    expect(text).not.toMatch(/shard="/);
  });
});

describe("amnesia shards: configuration", () => {
  it.each(["0", "2.5", "257", "many"])("refuses AMNESIA_SHARDS=%s by name and takes no write", async (value) => {
    const ready = await call("/readyz", {}, { AMNESIA_SHARDS: value });
    expect(ready.status).toBe(503);
    expect((await ready.json<{ detail: { config: string } }>()).detail.config).toMatch(/^AMNESIA_SHARDS: /);
    expect((await putRaw(randomBytes(10), {}, { AMNESIA_SHARDS: value })).status).toBe(503);
  });
});
