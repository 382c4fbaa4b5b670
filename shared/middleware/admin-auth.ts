/**
 * @module Admin routes (mailbox, audit) need `Authorization: Bearer <ADMIN_TOKEN>` when the
 * token is configured: missing → 401, wrong → 403. Unset leaves them open, for local runs.
 */
import { configOf, type RequestContext } from "../context";
import { HttpError } from "../errors";

const encoder = new TextEncoder();

export async function requireAdmin(request: Request, rc: RequestContext<any>): Promise<void> {
  const token = configOf(rc).ADMIN_TOKEN;
  if (!token) return;
  const header = request.headers.get("authorization") ?? "";
  if (!header.toLowerCase().startsWith("bearer ")) {
    throw new HttpError(401, "UNAUTHORIZED", "admin route: send Authorization: Bearer <ADMIN_TOKEN>", { reason: "missing_token", retryable: false, headers: { "WWW-Authenticate": "Bearer" } });
  }
  const given = encoder.encode(header.slice(7).trim());
  const expected = encoder.encode(token);
  // equal lengths for timingSafeEqual; a length mismatch is still compared against itself
  const same = given.length === expected.length && crypto.subtle.timingSafeEqual(given, expected);
  if (!same) throw new HttpError(403, "FORBIDDEN", "admin token not accepted", { reason: "bad_token", retryable: false });
}
