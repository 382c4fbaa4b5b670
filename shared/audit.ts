/**
 * @module The worker's side of the audit log: append decisions without delaying the response
 * (the append runs in waitUntil, batched with the isolate's other appends of the same few
 * milliseconds into one call) to this isolate's shard, and now and then ask for an anchor over
 * the shard heads. Records hold no tokens or signatures: only the fields of `AuditInput`.
 */
import { ANCHORS_NAME, shardName, type AuditInput, type AuditLimits, type AuditLogRpc } from "./audit-rpc";
import type { ConfigEnv } from "./config";
import { configOf, type RequestContext } from "./context";
import { IsolateBatcher } from "./batcher";
import { metrics } from "./metrics";
import { log } from "./log";
import { singletonStub } from "./singleton-stub";

export interface AuditEnv {
  AUDIT_LOG: DurableObjectNamespace<AuditLogRpc>;
}
/** A request that appends to or reads the audit log. */
export type AuditContext = RequestContext<AuditEnv & ConfigEnv>;

export function auditLimits(rc: AuditContext): AuditLimits {
  const c = configOf(rc);
  return { persistent: !c.AMNESIA, capacity: c.AUDIT_CAPACITY, flushRecords: c.AUDIT_FLUSH_RECORDS };
}

export const auditShards = (rc: AuditContext): number => configOf(rc).AUDIT_SHARDS;

export function auditShardStub(rc: AuditContext, shard: number): DurableObjectStub<AuditLogRpc> {
  const namespace = rc.env.AUDIT_LOG;
  return namespace.get(namespace.idFromName(shardName(shard)));
}

/** The anchor chain is one per deployment: placed by DO_LOCATION_HINT when set. */
export function auditAnchorsStub(rc: AuditContext): DurableObjectStub<AuditLogRpc> {
  return singletonStub(rc.env.AUDIT_LOG, ANCHORS_NAME, rc.env);
}

/** Drawn once per isolate (on its first append), so an isolate's appends all go to one shard. */
let isolateDraw: number | null = null;

/** This isolate's shard among `shards`. */
export function isolateShard(shards: number): number {
  isolateDraw ??= Math.floor(Math.random() * 2 ** 32);
  return isolateDraw % shards;
}

export type AuditEntry = Omit<AuditInput, "when" | "corr_id" | "route">;

interface Target {
  limits: AuditLimits;
  shards: number;
  anchorMs: number;
}

/** Records per append call: the log writes a batch with one storage put, which takes at most 128 keys. */
const MAX_BATCH = 100;

/** When this isolate last asked for an anchor (ms). */
let anchorAskedAt = Number.NEGATIVE_INFINITY;

/** After a batch: ask for an anchor if this isolate has not for AUDIT_ANCHOR_MS (still in the batch's waitUntil). */
async function maybeAnchor(rc: AuditContext, target: Target): Promise<void> {
  const now = Date.now();
  if (now - anchorAskedAt < target.anchorMs) return;
  anchorAskedAt = now;
  try {
    await auditAnchorsStub(rc).anchor(target.shards, target.limits, target.anchorMs);
  } catch (error) {
    log.error(rc, "audit anchor failed", { error: String(error) });
  }
}

/** Appends made within BACKGROUND_BATCH_MS of each other share one call to the isolate's shard (per isolate, per limits). */
const appends = new IsolateBatcher<{ input: AuditInput; target: Target }, AuditEnv & ConfigEnv>({
  maxItems: MAX_BATCH,
  async send(rc, items) {
    const inputs = items.map((item) => item.input);
    const target = items[0]!.target;
    metrics.backgroundBatches.inc({ kind: "audit" });
    try {
      // the stub is made here, in the request that sends the batch
      const shard = isolateShard(target.shards);
      const { dropped } = await auditShardStub(rc, shard).appendMany(shard, inputs, target.limits);
      if (dropped) {
        metrics.auditDropped.inc({}, dropped);
        metrics.queueDropped.inc({ queue: "audit" }, dropped);
      }
    } catch (error) {
      metrics.auditDropped.inc({}, inputs.length);
      log.error(rc, "audit append failed", { records: inputs.length, corr_ids: inputs.map((input) => input.corr_id).join(","), error: String(error) });
      return;
    }
    await maybeAnchor(rc, target);
  },
});

/** Record a decision in the background; a failure is logged and counted, never thrown. */
export function audit(rc: AuditContext, entry: AuditEntry): void {
  const input: AuditInput = { when: new Date().toISOString(), corr_id: rc.corrId, route: rc.route, ...entry };
  const c = configOf(rc);
  const target: Target = { limits: auditLimits(rc), shards: c.AUDIT_SHARDS, anchorMs: c.AUDIT_ANCHOR_MS };
  const { persistent, capacity, flushRecords } = target.limits;
  appends.add(rc, `${persistent}:${capacity}:${flushRecords}:${target.shards}:${target.anchorMs}`, { input, target }, c.BACKGROUND_BATCH_MS);
}
