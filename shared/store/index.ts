/**
 * @module Picks the object store strategy from configuration (`AMNESIA`), and the readiness
 * checks that go with it.
 */
import type { ConfigEnv } from "../config";
import { configOf, type RequestContext } from "../context";
import type { ReadinessCheck } from "../ops/readiness";
import { metrics } from "../metrics";
import { AmnesiaObjectStore, type AmnesiaStoreEnv } from "./amnesia-object-store";
import type { ObjectStore, StoreHealth } from "./object-store";
import { R2ObjectStore, type R2StoreEnv } from "./r2-object-store";
import { TimedObjectStore } from "./timed-object-store";

export type { ObjectStore, PutOutcome, StoredObject, ObjectInfo } from "./object-store";
export type StoreEnv = R2StoreEnv & AmnesiaStoreEnv;
/** A request that reads or writes objects. */
export type StoreContext = RequestContext<StoreEnv & ConfigEnv>;

/** The request's store; its calls are timed as `store` in Server-Timing. */
export function objectStoreFor(rc: StoreContext): ObjectStore {
  const config = configOf(rc);
  return new TimedObjectStore(createObjectStore(rc.env, { amnesia: config.AMNESIA, amnesiaMaxBytes: config.AMNESIA_MAX_BYTES, amnesiaShards: config.AMNESIA_SHARDS }), rc.timing);
}

/** Which store the configuration picks, and how the RAM store is split. */
export interface StoreChoice {
  amnesia: boolean;
  amnesiaMaxBytes: number;
  amnesiaShards: number;
}

/** The store for these settings, outside a request context (e.g. inside an overlay session object). */
export function createObjectStore(env: StoreEnv, choice: StoreChoice): ObjectStore {
  return choice.amnesia ? new AmnesiaObjectStore(env.AMNESIA_STORE, { maxBytes: choice.amnesiaMaxBytes, shards: choice.amnesiaShards }) : new R2ObjectStore(env.OBJECTS);
}

/** One health reading per request: both readiness checks use it, so a readyz asks every shard once. */
const healthReadings = new WeakMap<StoreContext, Promise<StoreHealth>>();
function healthOf(rc: StoreContext): Promise<StoreHealth> {
  let reading = healthReadings.get(rc);
  if (!reading) healthReadings.set(rc, (reading = objectStoreFor(rc).health()));
  return reading;
}

/**
 * `store`: the store answers. `store_capacity`: the RAM budget can no longer take a full-size body
 * in every shard (judged by the fullest: a write whose address routes there would be refused).
 */
export const storeChecks: ReadinessCheck<StoreEnv & ConfigEnv>[] = [
  {
    name: "store",
    async run(rc) {
      if (!rc.configResult.ok) return { ok: false, detail: "store not selected: configuration invalid" };
      const health = await healthOf(rc);
      return health.usable ? { ok: true } : { ok: false, detail: health.detail };
    },
  },
  {
    name: "store_capacity",
    async run(rc) {
      if (!rc.configResult.ok || !rc.configResult.config.AMNESIA) return { ok: true };
      const { usedBytes = 0, budgetBytes = 0, shards } = await healthOf(rc);
      if (!shards) return { ok: true };
      const { fullest } = shards;
      const remaining = fullest.budgetBytes - fullest.usedBytes;
      if (remaining >= rc.configResult.config.MAX_BODY_BYTES) return { ok: true };
      // Reads still work; only writes of a full-size body (routed to that shard) would be refused.
      return { ok: false, degraded: true, detail: `amnesia shard ${fullest.name} has ${remaining} of ${fullest.budgetBytes} bytes free (${budgetBytes - usedBytes} of ${budgetBytes} in all ${shards.count})` };
    },
  },
];

/** Refresh the RAM store gauges before a scrape: totals over every shard, and the fullest shard (no per-shard series). */
export async function refreshStoreGauges(rc: StoreContext): Promise<void> {
  if (!rc.configResult.ok || !rc.configResult.config.AMNESIA) return;
  const { usedBytes = 0, budgetBytes = 0, shards } = await objectStoreFor(rc).health();
  metrics.storeBytes.set({ store: "amnesia" }, usedBytes);
  metrics.storeBudget.set({ store: "amnesia" }, budgetBytes);
  metrics.storeFullestShardBytes.set({ store: "amnesia" }, shards?.fullest.usedBytes ?? usedBytes);
}
