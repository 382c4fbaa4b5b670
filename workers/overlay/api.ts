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
      "The capability token is presented in HELLO (the first frame, or the optional `OAP-Hello` header), not in `Authorization`: each FETCH, PUB and SUB is judged against its ops " +
      "(`overlay.fetch`, `overlay.publish`, `overlay.subscribe`) and caveats. Frames, handshake, limits and close codes: docs/OAP1.md. " +
      "Clients: the SDK's `connectOverlay` (docs/SDK.md).",
    tag: "overlay",
    admission: "read",
    parameters: [
      { name: "Upgrade", in: "header", required: true, description: "`websocket`.", schema: { json: { type: "string", const: "websocket" } } },
      { name: "CF-Connecting-IP", in: "header", description: "Set by the platform: the client that OVERLAY_MAX_SESSIONS_PER_CLIENT counts (locally every client is `local`)." },
      {
        name: "OAP-Hello",
        in: "header",
        description:
          "Optional one-round-trip handshake: the HELLO payload (token and key shares included) as unpadded base64url, at most 10,240 characters. " +
          "Judged before the upgrade exactly as a HELLO frame; accepted, READY is the socket's first frame (docs/OAP1.md §2).",
        schema: { json: { type: "string", pattern: "^[A-Za-z0-9_-]+$", maxLength: 10_240 } },
      },
    ],
    responses: [{ status: 101, description: "Switching protocols: the session speaks OAP/1." }],
    errors: [
      { status: 426, code: "UPGRADE_REQUIRED", reason: "websocket_required", when: "a GET without `Upgrade: websocket`", headers: ["Upgrade"] },
      { status: 503, code: "NOT_CONFIGURED", reason: "not_configured", when: "no CAP_ROOT_KEY is configured (default deny)", retryable: false },
      { status: 503, code: "SERVICE_UNAVAILABLE", reason: "BACKPRESSURE", when: "OVERLAY_MAX_SESSIONS sessions are open", headers: ["Retry-After", "X-Reason"] },
      { status: 429, code: "TOO_MANY_REQUESTS", reason: "client_sessions", when: "this client has OVERLAY_MAX_SESSIONS_PER_CLIENT sessions open", headers: ["Retry-After", "X-Reason"] },
      { status: 400, code: "BAD_REQUEST", reason: "bad_hello", when: "`OAP-Hello` is not unpadded base64url of a HELLO the schema accepts (also `reason: version`: no common version)", retryable: false },
      { status: 401, code: "UNAUTHORIZED", reason: "bad_token", when: "the `OAP-Hello` HELLO's token is missing (`missing_token`), bad or expired (`expired`)", headers: ["WWW-Authenticate"], retryable: false },
      { status: 403, code: "FORBIDDEN", reason: "caveat", when: "the `OAP-Hello` HELLO's token allows no overlay operation (also `reason: pq_required` under OVERLAY_PQ_MODE=pq_only)", retryable: false },
      { status: 431, code: "HEADERS_TOO_LARGE", reason: "hello_too_large", when: "`OAP-Hello` is over 10,240 characters", retryable: false },
    ],
    samplePath: "/overlay",
  },
];
