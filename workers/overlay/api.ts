/**
 * @module The overlay facet's HTTP route as the API document describes it (build time only:
 * `npm run openapi`). What flows over the socket is OAP/1: docs/OAP1.md.
 */
import type { OperationSpec } from "../../shared/openapi/spec";

export const overlayApi: OperationSpec[] = [
  {
    method: "GET",
    template: "/overlay",
    operationId: "openOverlaySession",
    summary: "Open an OAP/1 session over a WebSocket",
    description:
      "The capability token is presented in the HELLO frame, not in a header: each FETCH, PUB and SUB is judged against its ops " +
      "(`overlay.fetch`, `overlay.publish`, `overlay.subscribe`) and caveats. Frames, handshake, limits and close codes: docs/OAP1.md. " +
      "Clients: the SDK's `connectOverlay` (docs/SDK.md).",
    tag: "overlay",
    admission: "read",
    parameters: [
      { name: "Upgrade", in: "header", required: true, description: "`websocket`.", schema: { json: { type: "string", const: "websocket" } } },
      { name: "CF-Connecting-IP", in: "header", description: "Set by the platform: the client that OVERLAY_MAX_SESSIONS_PER_CLIENT counts (locally every client is `local`)." },
    ],
    responses: [{ status: 101, description: "Switching protocols: the session speaks OAP/1." }],
    errors: [
      { status: 426, code: "UPGRADE_REQUIRED", reason: "websocket_required", when: "a GET without `Upgrade: websocket`", headers: ["Upgrade"] },
      { status: 503, code: "NOT_CONFIGURED", reason: "not_configured", when: "no CAP_ROOT_KEY is configured (default deny)", retryable: false },
      { status: 503, code: "SERVICE_UNAVAILABLE", reason: "BACKPRESSURE", when: "OVERLAY_MAX_SESSIONS sessions are open", headers: ["Retry-After", "X-Reason"] },
      { status: 429, code: "TOO_MANY_REQUESTS", reason: "client_sessions", when: "this client has OVERLAY_MAX_SESSIONS_PER_CLIENT sessions open", headers: ["Retry-After", "X-Reason"] },
    ],
    samplePath: "/overlay",
  },
];
