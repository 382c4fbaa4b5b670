/**
 * @module Audit admin routes: `GET /audit/verify` recomputes every shard's hash chain and the
 * anchor chain; `GET /audit/tail` shows the newest records over all shards. Both need a capability
 * token with op `audit.read`.
 */
import type { AuditContext } from "../../shared/audit";
import { newestAuditRecords, verifyAudit } from "../../shared/audit-read";
import { badRequest } from "../../shared/errors";
import { requireCapability } from "../../shared/middleware/require-capability";
import type { RouteRequest } from "../../shared/middleware";

export async function auditVerify(request: RouteRequest, rc: AuditContext): Promise<Response> {
  requireCapability(request, rc, { op: "audit.read" });
  // a broken chain is a finding, not a failure of the request: 200 with ok:false
  return Response.json(await rc.timing.measure("do", verifyAudit(rc)), { status: 200, headers: { "Cache-Control": "no-store" } });
}

export async function auditTail(request: RouteRequest, rc: AuditContext): Promise<Response> {
  requireCapability(request, rc, { op: "audit.read" });
  const limit = Number(new URL(request.url).searchParams.get("limit") ?? 50);
  if (!Number.isInteger(limit) || limit < 1 || limit > 512) throw badRequest("limit must be 1..512", "bad_limit");
  return Response.json({ records: await rc.timing.measure("do", newestAuditRecords(rc, limit)) }, { headers: { "Cache-Control": "no-store" } });
}
