/**
 * @module `GET /overlay`: hand the WebSocket upgrade to a new session object, with the overlay
 * settings this worker resolved from its config. A plain GET gets 426; past
 * OVERLAY_MAX_SESSIONS the upgrade is shed with 503 BACKPRESSURE, and past
 * OVERLAY_MAX_SESSIONS_PER_CLIENT sessions of one client (by `CF-Connecting-IP`) with 429.
 * An upgrade that carries its HELLO in `OAP-Hello` (docs/OAP1.md §2) is judged by the session
 * before the 101: a refusal is answered here, as the JSON envelope with the refusal's status.
 */
import { configOf, type RequestContext } from "../../shared/context";
import { requireRootKey } from "../../shared/middleware/require-capability";
import { HttpError, resourceBusy, shed } from "../../shared/errors";
import type { RouteRequest } from "../../shared/middleware/router";
import { helloRefusalOf } from "../../shared/overlay/hello-header";
import { overlayState } from "../../shared/overlay/isolate-state";
import { CLIENT_HEADER, clientKeyOf, overlaySettings, SETTINGS_HEADER } from "../../shared/overlay/settings";
import type { OverlaySessionEnv } from "../../durable-objects/overlay-session";

export async function openSession(request: RouteRequest, rc: RequestContext<OverlaySessionEnv>): Promise<Response> {
  if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
    throw new HttpError(426, "UPGRADE_REQUIRED", "GET /overlay opens a WebSocket session: send Upgrade: websocket (docs/OAP1.md)", {
      reason: "websocket_required",
      headers: { Upgrade: "websocket" },
    });
  }
  const config = configOf(rc);
  requireRootKey(rc);
  if (overlayState.sessions >= config.OVERLAY_MAX_SESSIONS) throw shed(503, "BACKPRESSURE", `${config.OVERLAY_MAX_SESSIONS} overlay sessions are open`, 1_000);
  const client = clientKeyOf(request);
  if (overlayState.sessionsOf(client) >= config.OVERLAY_MAX_SESSIONS_PER_CLIENT) {
    throw resourceBusy("client_sessions", `this client has ${config.OVERLAY_MAX_SESSIONS_PER_CLIENT} overlay sessions open; close one first`, 1_000);
  }
  const sessions = rc.env.OVERLAY_SESSION;
  const headers = new Headers(request.headers);
  headers.set(SETTINGS_HEADER, JSON.stringify(overlaySettings(config)));
  headers.set(CLIENT_HEADER, client);
  // the slot is taken now, before the first await, so concurrent upgrades cannot overshoot the cap;
  // the session gives it back when it closes, and we do if no session was opened
  overlayState.reserveClient(client);
  let upgraded: Response;
  try {
    upgraded = await sessions.get(sessions.newUniqueId()).fetch(new Request(request.url, { headers }));
  } catch (error) {
    overlayState.releaseClient(client);
    throw error;
  }
  if (!upgraded.webSocket) {
    overlayState.releaseClient(client);
    // a header HELLO the session refused: the status and reason its refusal frame would carry
    const refusal = await helloRefusalOf(upgraded);
    if (refusal) {
      const { status, reason, message } = refusal;
      const headers = status === 401 ? { "WWW-Authenticate": 'Bearer realm="ron-workers"' } : undefined;
      throw new HttpError(status, REFUSAL_CODES[status] ?? "BAD_REQUEST", message, { reason, retryable: false, headers });
    }
    return upgraded;
  }
  // Decline permessage-deflate: an empty Sec-WebSocket-Extensions is workerd's way to say "no
  // compression" (compatibility-date.capnp, webSocketCompression). Deflating frames that mostly
  // carry objects cost far more than it saved (docs/PERFORMANCE.md). Miniflare's entry worker
  // re-negotiates in front of us locally, so clients there should also opt out (docs/SDK.md).
  const out = new Headers(upgraded.headers);
  out.set("Sec-WebSocket-Extensions", "");
  return new Response(null, { status: 101, webSocket: upgraded.webSocket, headers: out });
}

/** Envelope codes of the statuses a header HELLO's refusal carries (the frame path's codes; 400 otherwise). */
const REFUSAL_CODES: Record<number, string> = { 401: "UNAUTHORIZED", 403: "FORBIDDEN", 431: "HEADERS_TOO_LARGE" };
