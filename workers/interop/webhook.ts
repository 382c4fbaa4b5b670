/**
 * @module `POST /webhooks/:provider`: verify the sender at the edge by the provider's own
 * convention over the body's exact wire bytes (nothing is decoded or parsed before that), decode
 * it, enqueue it into `webhooks.<provider>`, and audit the decision. 202 once the message is
 * stored; a redelivery within the dedupe window is acknowledged again but enqueued once, whether
 * it carries the same delivery id or only the same signed bytes (a replay under a fresh,
 * unsigned delivery id). Refusals are counted every time but audited as a sample, so forgeries
 * cannot push real records out of the bounded log.
 */
import { audit, type AuditEnv } from "../../shared/audit";
import { auditSampled } from "../../shared/audit-sample";
import { parseContentCoding } from "../../shared/body/content-coding";
import { bodyLimitsOf, readDecodedBody, readWireBody } from "../../shared/body/read-body";
import { configOf, type RequestContext } from "../../shared/context";
import type { ConfigEnv } from "../../shared/config";
import { HttpError, notFound, resourceBusy } from "../../shared/errors";
import { sendMessage, type MailboxEnv } from "../../shared/mailbox/client";
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

/** Count a refusal; audit it only as a sample (one per provider and reason per interval). */
function deny(rc: RequestContext<AuditEnv & ConfigEnv>, config: Config, provider: string | null, reason: string, b3: string | null): void {
  metrics.webhookDenied.inc({ provider: provider ?? "unknown", reason });
  auditSampled(rc, `webhook:${provider ?? "unknown"}:${reason}`, { provider, decision: "deny", reason, b3 }, config.WEBHOOK_DENY_AUDIT_S * 1000);
}

export async function receiveWebhook(request: RouteRequest, rc: RequestContext<MailboxEnv & AuditEnv & ConfigEnv>): Promise<Response> {
  const config = configOf(rc);
  const name = request.params.provider ?? "";
  const provider = Object.hasOwn(PROVIDERS, name) ? PROVIDERS[name] : undefined;
  if (!provider) {
    deny(rc, config, null, "unknown_provider", null);
    throw notFound(`unknown webhook provider; known: ${Object.keys(PROVIDERS).join(", ")}`);
  }
  const secrets = SECRETS[name]!(config).filter((s): s is string => Boolean(s));
  if (secrets.length === 0) {
    // a provider without a secret is disabled: it looks like it does not exist
    deny(rc, config, name, "provider_disabled", null);
    throw new HttpError(404, "NOT_FOUND", `webhook provider ${name} is not enabled here`, { reason: "provider_disabled", retryable: false });
  }

  // Only the header is read here, so an unsupported coding is refused before any body byte.
  const coding = parseContentCoding(request.headers.get("content-encoding"));
  // The signature covers the bytes as sent: verify those, under the wire cap, before decoding.
  const wire = await readWireBody(request.body ?? new Blob([]).stream(), config.MAX_BODY_BYTES, rc.signal);
  const verdict = await provider.verify({ headers: request.headers, body: wire.bytes, secrets, nowSeconds: Math.floor(Date.now() / 1000), toleranceSeconds: config.WEBHOOK_TOLERANCE_S });
  metrics.webhookVerify.inc({ provider: name, result: verdict.ok ? "ok" : verdict.reason });
  if (!verdict.ok) {
    deny(rc, config, name, verdict.reason, `b3:${wire.hex}`);
    throw new HttpError(401, "UNAUTHORIZED", `webhook signature refused: ${verdict.reason}`, { reason: verdict.reason, retryable: false });
  }

  const body = coding === "identity" ? wire : await readDecodedBody(new Blob([wire.bytes]).stream(), coding, bodyLimitsOf(config), rc.signal, wire.bytes.length);
  const b3 = `b3:${body.hex}`;
  const attrs: Record<string, string> = { provider: name };
  for (const header of KEPT_HEADERS[name] ?? []) {
    const value = request.headers.get(header);
    if (value) attrs[header] = value.slice(0, 255);
  }
  const sent = await sendMessage(rc, {
    topic: `webhooks.${name}`,
    idem_key: `${name}:${provider.deliveryId(request.headers, body.bytes) ?? b3}`,
    // the same signed bytes again are the same delivery, whatever unsigned id they came with
    dedupe_keys: [`${name}:signed:b3:${wire.hex}`],
    payload: body.bytes,
    attrs,
  });
  if (sent.status === "full" || sent.status === "topic_limit") {
    audit(rc, { provider: name, decision: "deny", reason: "backpressure", b3 });
    throw resourceBusy("BACKPRESSURE", `mailbox webhooks.${name} is full`, 1_000);
  }
  audit(rc, { provider: name, decision: "allow", reason: sent.status === "duplicate" ? "duplicate" : null, b3 });
  return Response.json(
    { accepted: true, duplicate: sent.status === "duplicate", b3, corr_id: rc.corrId },
    { status: 202, headers: { "Content-Type": "application/json; charset=utf-8" } },
  );
}
