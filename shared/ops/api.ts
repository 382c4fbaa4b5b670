/**
 * @module The ops routes every worker serves, as the API document describes them (build time
 * only: `npm run openapi`). They bypass admission: only the header cap stands in front of them.
 */
import type { OperationSpec } from "../openapi/spec";
import * as z from "../zod";

const readyReport = z.union([
  z.strictObject({ ready: z.literal(true) }),
  z.strictObject({
    ready: z.literal(false),
    degraded: z.boolean(),
    missing: z.array(z.string()),
    retry_after: z.number().check(z.int()),
    detail: z.record(z.string(), z.string()),
  }),
]);
const version = z.strictObject({ version: z.string(), git: z.string(), build: z.string(), features: z.array(z.string()) });
const json = (name: string, schema: z.ZodMiniType, example: unknown) => ({ content: { "application/json": { schema: { name, schema }, example } } });

export const opsApi: OperationSpec[] = [
  {
    method: "GET",
    template: "/healthz",
    operationId: "healthz",
    summary: "Liveness: the isolate runs",
    tag: "ops",
    admission: "ops",
    responses: [{ status: 200, description: "Alive.", headers: ["Cache-Control"], body: json("Health", z.strictObject({ ok: z.literal(true) }), { ok: true }) }],
    samplePath: "/healthz",
  },
  {
    method: "HEAD",
    template: "/healthz",
    operationId: "healthzHead",
    summary: "Liveness, without a body",
    tag: "ops",
    admission: "ops",
    responses: [{ status: 200, description: "Alive." }],
    samplePath: "/healthz",
  },
  {
    method: "GET",
    template: "/readyz",
    operationId: "readyz",
    summary: "Readiness: whether new work would succeed",
    description:
      "Checks: `config`, `auth` (a capability root key), `store`, `store_capacity`, `limiter`, `brownout`, `shedding`, and per facet " +
      "`packs`, `overlay_sessions`, `gossip_queue`, `overlay_handshakes`. All but `config` and `store` are `degraded`: reads are still served.",
    tag: "ops",
    admission: "ops",
    responses: [
      { status: 200, description: "Ready.", headers: ["Cache-Control"], body: json("Readiness", readyReport, { ready: true }) },
      {
        status: 503,
        description: "Not ready: `missing` names the failing checks, `detail` says why.",
        headers: ["Retry-After", "Cache-Control"],
        body: json("Readiness", readyReport, { ready: false, degraded: true, missing: ["auth"], retry_after: 5, detail: { auth: "CAP_ROOT_KEY is not set: public reads are served, writes are refused with 503 NOT_CONFIGURED (docs/SECURITY.md)" } }),
      },
    ],
    samplePath: "/readyz",
  },
  {
    method: "GET",
    template: "/version",
    operationId: "version",
    summary: "Version, build and features",
    tag: "ops",
    admission: "ops",
    responses: [
      { status: 200, description: "`features` names the facets and the store.", headers: ["Cache-Control"], body: json("Version", version, { version: "0.1.0", git: "unknown", build: "unknown", features: ["interop", "amnesia"] }) },
    ],
    samplePath: "/version",
  },
  {
    method: "GET",
    template: "/metrics",
    operationId: "metrics",
    summary: "Prometheus metrics of this isolate",
    description: "Text format 0.0.4; served even while the configuration is invalid. Families: docs/API.md.",
    tag: "ops",
    capability: "metrics",
    capabilityUnless: "METRICS_PUBLIC=true",
    admission: "ops",
    responses: [
      {
        status: 200,
        description: "The metrics.",
        headers: ["Cache-Control"],
        body: { content: { "text/plain; version=0.0.4": { schema: { json: { type: "string" } }, example: "# TYPE inflight_requests gauge\ninflight_requests{service=\"micronode\"} 1\n" } } },
      },
    ],
    samplePath: "/metrics",
  },
];
