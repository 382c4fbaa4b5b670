// A file of its own: fresh Durable Object storage and R2, so anything found there came from these appends.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, putRaw, randomBytes } from "./helpers";
import { isolateShard } from "../shared/audit";

const namespace = () => env.AUDIT_LOG;
const stub = (name: string) => namespace().get(namespace().idFromName(name));

describe("audit shards and anchors in amnesia", () => {
  it("keep records in memory only: no Durable Object storage, no alarm, nothing in R2", async () => {
    const knobs = { AUDIT_SHARDS: "4", AUDIT_ANCHOR_MS: "0", AUDIT_FLUSH_RECORDS: "1" };
    for (let i = 0; i < 3; i++) await putRaw(randomBytes(20), {}, knobs);
    const report = await (await call("/audit/verify", {}, knobs)).json<any>();
    expect(report.ok).toBe(true);
    expect(report.shards[isolateShard(4)].records).toBeGreaterThanOrEqual(3);
    expect(report.anchors.records).toBeGreaterThanOrEqual(1);
    for (const name of [`audit-${isolateShard(4)}`, "audit-anchors"]) {
      await runInDurableObject(stub(name), async (_instance, state) => {
        expect(await state.storage.getAlarm()).toBeNull();
        expect((await state.storage.list()).size).toBe(0);
      });
    }
    expect((await env.OBJECTS.list({ prefix: "audit/" })).objects).toEqual([]);
  });
});
