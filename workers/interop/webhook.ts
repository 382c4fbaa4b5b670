/**
 * @module `POST /webhooks/:provider`: verify the sender at the edge by the provider's own
 * convention, hash the raw body with BLAKE3, enqueue it (as is) into `webhooks.<provider>`, and
 * audit the decision. 202 once the message is stored; a redelivery within the dedupe window is
 * acknowledged again but enqueued once.
 */
import { audit } from "../../shared/audit";
import { parseContentCoding } from "../../shared/body/content-coding";
import { bodyLimitsOf, readDecodedBody } from "../../shared/body/read-body";
import { configOf, type RequestContext } from "../../shared/context";
import { HttpError, notFound, shed } from "../../shared/errors";
import { sendMessage } from "../../shared/mailbox/client";
import { metrics } from "../../shared/metrics";
import type { RouteRequest } from "../../shared/middleware";
import { PROVIDERS } from "../../shared/webhooks/providers";
import type { Config } from "../../shared/config";

const SECRETS: Record<string, (c: Config) => (string | undefined)[]> = {
  github: (c) => [c.GITHUB_WEBHOOK_SECRET, c.GITHUB_WEBHOOK_SECRET_PREVIOUS],
  stripe: (c) => [c.STRIPE_WEBHOOK_SECRET, c.STRIPE_WEBHOOK_SECRET_PREVIOUS],
  slack: (c) => [c.SLACK_SIGNING_SECRET, c.SLACK_SIGNING_SECRET_PREVIOUS],
};

/** Headers worth keeping with the message for consumers (never signatures). */
const KEPT_HEADERS: Record<string, string[]> = {
  github: ["x-github-event", "x-github-delivery", "x-github-hook-id"],
  stripe: [],
  slack: ["x-slack-retry-num", "x-slack-retry-reason"],
};

export async function receiveWebhook(request: RouteRequest, rc: RequestContext<any>): Promise<Response> {
  const config = configOf(rc);
  const name = request.params.provider ?? "";
  const provider = PROVIDERS[name];
  if (!provider) {
    audit(rc, { provider: null, decision: "deny", reason: "unknown_provider", b3: null });
    throw notFound(`unknown webhook provider; known: ${Object.keys(PROVIDERS).join(", ")}`);
  }
  const secrets = SECRETS[name]!(config).filter((s): s is string => Boolean(s));
  if (secrets.length === 0) {
    // a provider without a secret is disabled: it looks like it does not exist
    audit(rc, { provider: name, decision: "deny", reason: "provider_disabled", b3: null });
    throw new HttpError(404, "NOT_FOUND", `webhook provider ${name} is not enabled here`, { reason: "provider_disabled", retryable: false });
  }

  const body = await readDecodedBody(request.body ?? new Blob([]).stream(), parseContentCoding(request.headers.get("content-encoding")), bodyLimitsOf(config), rc.signal);
  const b3 = `b3:${body.hex}`;
  const verdict = await provider.verify({ headers: request.headers, body: body.bytes, secrets, nowSeconds: Math.floor(Date.now() / 1000), toleranceSeconds: config.WEBHOOK_TOLERANCE_S });
  metrics.webhookVerify.inc({ provider: name, result: verdict.ok ? "ok" : verdict.reason });
  if (!verdict.ok) {
    audit(rc, { provider: name, decision: "deny", reason: verdict.reason, b3 });
    throw new HttpError(401, "UNAUTHORIZED", `webhook signature refused: ${verdict.reason}`, { reason: verdict.reason, retryable: false });
  }

  const attrs: Record<string, string> = { provider: name };
  for (const header of KEPT_HEADERS[name] ?? []) {
    const value = request.headers.get(header);
    if (value) attrs[header] = value.slice(0, 255);
  }
  const sent = await sendMessage(rc, { topic: `webhooks.${name}`, idem_key: `${name}:${verdict.deliveryId ?? b3}`, payload: body.bytes, attrs });
  if (sent.status === "full") {
    audit(rc, { provider: name, decision: "deny", reason: "backpressure", b3 });
    throw shed(429, "BACKPRESSURE", `mailbox webhooks.${name} is full`, 1_000);
  }
  audit(rc, { provider: name, decision: "allow", reason: sent.status === "duplicate" ? "duplicate" : null, b3 });
  return Response.json(
    { accepted: true, duplicate: sent.status === "duplicate", b3, corr_id: rc.corrId },
    { status: 202, headers: { "Content-Type": "application/json; charset=utf-8" } },
  );
}
