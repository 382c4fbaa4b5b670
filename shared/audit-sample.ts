/**
 * @module Sampled audit for refusals anyone can provoke (forged or unsolicited webhooks): the
 * first refusal of a kind in each interval is recorded, the others in that interval are only
 * counted, and the next record carries how many were left out (`suppressed`). So a flood of
 * forgeries costs a bounded number of records and cannot push real ones out of the bounded log.
 * The state is per isolate and keyed by a bounded set of kinds (provider × reason).
 */
import { audit, type AuditEntry, type AuditContext } from "./audit";

interface Window {
  /** When the last record of this kind was written (ms). */
  recordedAt: number;
  /** Refusals of this kind counted but not recorded since then. */
  suppressed: number;
}

/** Kinds are provider × reason, a small closed set; the cap only guards against a bug widening it. */
const MAX_KINDS = 256;
const windows = new Map<string, Window>();

/** Record `entry` unless one of the same kind was recorded within `intervalMs`; true when recorded. */
export function auditSampled(rc: AuditContext, kind: string, entry: AuditEntry, intervalMs: number, now = Date.now()): boolean {
  const window = windows.get(kind);
  if (window && now - window.recordedAt < intervalMs) {
    window.suppressed++;
    return false;
  }
  audit(rc, window?.suppressed ? { ...entry, suppressed: window.suppressed } : entry);
  if (!window && windows.size >= MAX_KINDS) windows.delete(windows.keys().next().value!);
  windows.set(kind, { recordedAt: now, suppressed: 0 });
  return true;
}
