/**
 * @module Audit admin routes: `GET /audit/verify` recomputes the hash chain; `GET /audit/tail`
 * shows the newest records. Both need a capability token with op `audit.read`.
 */
import { auditLimits, auditStub } from "../../shared/audit";
import type { RequestContext } from "../../shared/context";
import { badRequest } from "../../shared/errors";
import { requireCapability } from "../../shared/middleware/require-capability";
import type { RouteRequest } from "../../shared/middleware";

export async function auditVerify(request: RouteRequest, rc: RequestContext<any>): Promise<Response> {
  requireCapability(request, rc, { op: "audit.read" });
  const report = await rc.timing.measure("do", auditStub(rc).verify(auditLimits(rc)));
  return Response.json(report, { status: 200, headers: { "Cache-Control": "no-store" } });
}

export async function auditTail(request: RouteRequest, rc: RequestContext<any>): Promise<Response> {
  requireCapability(request, rc, { op: "audit.read" });
  const limit = Number(new URL(request.url).searchParams.get("limit") ?? 50);
  if (!Number.isInteger(limit) || limit < 1 || limit > 512) throw badRequest("limit must be 1..512", "bad_limit");
  return Response.json({ records: await rc.timing.measure("do", auditStub(rc).recent(limit, auditLimits(rc))) }, { headers: { "Cache-Control": "no-store" } });
}
