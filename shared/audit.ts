/**
 * @module The worker's side of the audit log: append decisions without delaying the response
 * (the append runs in waitUntil, batched with the isolate's other appends of the same few
 * milliseconds into one call), and read the chain's verdict. Records hold no tokens or
 * signatures: only the fields of `AuditInput`.
 */
import type { AuditInput, AuditLimits, AuditLog } from "../durable-objects/audit-log";
import { configOf, type RequestContext } from "./context";
import { IsolateBatcher } from "./batcher";
import { metrics } from "./metrics";
import { log } from "./log";

export interface AuditEnv {
  AUDIT_LOG: DurableObjectNamespace<AuditLog>;
}

/** One log per deployment. */
const LOG_NAME = "audit";

export function auditLimits(rc: RequestContext<any>): AuditLimits {
  const c = configOf(rc);
  return { persistent: !c.AMNESIA, capacity: c.AUDIT_CAPACITY, flushRecords: c.AUDIT_FLUSH_RECORDS };
}

export function auditStub(rc: RequestContext<any>): DurableObjectStub<AuditLog> {
  const namespace = (rc.env as AuditEnv).AUDIT_LOG;
  return namespace.get(namespace.idFromName(LOG_NAME));
}

export type AuditEntry = Omit<AuditInput, "when" | "corr_id" | "route">;

/** Records per append call: the log writes a batch with one storage put, which takes at most 128 keys. */
const MAX_BATCH = 100;

/** Appends made within BACKGROUND_BATCH_MS of each other share one call to the log (per isolate, per limits). */
const appends = new IsolateBatcher<{ input: AuditInput; limits: AuditLimits }>({
  maxItems: MAX_BATCH,
  async send(rc, items) {
    const inputs = items.map((item) => item.input);
    metrics.backgroundBatches.inc({ kind: "audit" });
    try {
      // the stub is made here, in the request that sends the batch
      const { dropped } = await auditStub(rc).appendMany(inputs, items[0]!.limits);
      if (dropped) {
        metrics.auditDropped.inc({}, dropped);
        metrics.queueDropped.inc({ queue: "audit" }, dropped);
      }
    } catch (error) {
      metrics.auditDropped.inc({}, inputs.length);
      log.error(rc, "audit append failed", { records: inputs.length, corr_ids: inputs.map((input) => input.corr_id).join(","), error: String(error) });
    }
  },
});

/** Record a decision in the background; a failure is logged and counted, never thrown. */
export function audit(rc: RequestContext<any>, entry: AuditEntry): void {
  const input: AuditInput = { when: new Date().toISOString(), corr_id: rc.corrId, route: rc.route, ...entry };
  const limits = auditLimits(rc);
  appends.add(rc, `${limits.persistent}:${limits.capacity}:${limits.flushRecords}`, { input, limits }, configOf(rc).BACKGROUND_BATCH_MS);
}
