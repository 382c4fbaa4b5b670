/**
 * @module The worker's side of the audit log: append decisions without delaying the response
 * (the append runs in waitUntil), and read the chain's verdict. Records hold no tokens or
 * signatures: only the fields of `AuditInput`.
 */
import type { AuditInput, AuditLimits, AuditLog } from "../durable-objects/audit-log";
import { configOf, type RequestContext } from "./context";
import { metrics } from "./metrics";

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

/** Record a decision in the background; a failure is logged and counted, never thrown. */
export function audit(rc: RequestContext<any>, entry: AuditEntry): void {
  const input: AuditInput = { when: new Date().toISOString(), corr_id: rc.corrId, route: rc.route, ...entry };
  const append = auditStub(rc)
    .append(input, auditLimits(rc))
    .then(({ dropped }) => {
      if (dropped) {
        metrics.auditDropped.inc({}, dropped);
        metrics.queueDropped.inc({ queue: "audit" }, dropped);
      }
    })
    .catch((error) => {
      metrics.auditDropped.inc();
      console.error(JSON.stringify({ level: "error", msg: "audit append failed", corr_id: rc.corrId, error: String(error) }));
    });
  rc.exec.waitUntil(append);
}
