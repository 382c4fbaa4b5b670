/**
 * @module Picks the object store strategy from configuration (`AMNESIA`), and the readiness
 * checks that go with it.
 */
import type { ConfigEnv } from "../config";
import { configOf, type RequestContext } from "../context";
import type { ReadinessCheck } from "../ops/readiness";
import { metrics } from "../metrics";
import { AmnesiaObjectStore, type AmnesiaStoreEnv } from "./amnesia-object-store";
import type { ObjectStore } from "./object-store";
import { R2ObjectStore, type R2StoreEnv } from "./r2-object-store";
import { TimedObjectStore } from "./timed-object-store";

export type { ObjectStore, PutOutcome, StoredObject, ObjectInfo } from "./object-store";
export type StoreEnv = R2StoreEnv & AmnesiaStoreEnv;
/** A request that reads or writes objects. */
export type StoreContext = RequestContext<StoreEnv & ConfigEnv>;

/** The request's store; its calls are timed as `store` in Server-Timing. */
export function objectStoreFor(rc: StoreContext): ObjectStore {
  const config = configOf(rc);
  return new TimedObjectStore(createObjectStore(rc.env, { amnesia: config.AMNESIA, amnesiaMaxBytes: config.AMNESIA_MAX_BYTES }), rc.timing);
}

/** The store for these settings, outside a request context (e.g. inside an overlay session object). */
export function createObjectStore(env: StoreEnv, choice: { amnesia: boolean; amnesiaMaxBytes: number }): ObjectStore {
  return choice.amnesia ? new AmnesiaObjectStore(env.AMNESIA_STORE, choice.amnesiaMaxBytes) : new R2ObjectStore(env.OBJECTS);
}

/** `store`: the store answers. `store_capacity`: the RAM budget can no longer take a full-size body. */
export const storeChecks: ReadinessCheck<StoreEnv & ConfigEnv>[] = [
  {
    name: "store",
    async run(rc) {
      if (!rc.configResult.ok) return { ok: false, detail: "store not selected: configuration invalid" };
      const health = await objectStoreFor(rc).health();
      return health.usable ? { ok: true } : { ok: false, detail: health.detail };
    },
  },
  {
    name: "store_capacity",
    async run(rc) {
      if (!rc.configResult.ok || !rc.configResult.config.AMNESIA) return { ok: true };
      const { usedBytes = 0, budgetBytes = 0 } = await objectStoreFor(rc).health();
      const remaining = budgetBytes - usedBytes;
      if (remaining >= rc.configResult.config.MAX_BODY_BYTES) return { ok: true };
      // Reads still work; only writes of a full-size body would be refused.
      return { ok: false, degraded: true, detail: `amnesia store has ${remaining} of ${budgetBytes} bytes free` };
    },
  },
];

/** Refresh the RAM store gauges before a scrape. */
export async function refreshStoreGauges(rc: StoreContext): Promise<void> {
  if (!rc.configResult.ok || !rc.configResult.config.AMNESIA) return;
  const { usedBytes = 0, budgetBytes = 0 } = await objectStoreFor(rc).health();
  metrics.storeBytes.set({ store: "amnesia" }, usedBytes);
  metrics.storeBudget.set({ store: "amnesia" }, budgetBytes);
}
