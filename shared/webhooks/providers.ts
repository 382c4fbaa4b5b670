/**
 * @module Webhook signature conventions, one verifier per provider, each the provider's own
 * (DESIGN.md §8). Pure: headers, the exact wire bytes of the body, the secrets and the clock in;
 * a verdict with a stable reason out. Nothing of the body is parsed until the signature holds:
 * the delivery id is read by `deliveryId`, which the caller runs only after `verify` said ok.
 * SHA-256 is used only here, to verify.
 */
import { concatBytes, hexToBytes, hmacMatchesAny } from "./hmac";

export type VerifyReason = "missing_signature" | "malformed_signature" | "bad_signature" | "missing_timestamp" | "stale_timestamp";

export type Verdict = { ok: true } | { ok: false; reason: VerifyReason };

export interface VerifyInput {
  headers: Headers;
  /** The body exactly as it arrived (never decoded). */
  body: Uint8Array;
  /** Current secret first, then the previous one during rotation. */
  secrets: readonly string[];
  nowSeconds: number;
  toleranceSeconds: number;
}

export interface WebhookProvider {
  name: string;
  verify(input: VerifyInput): Promise<Verdict>;
  /** The provider's own id of a verified delivery, if it has one. */
  deliveryId(headers: Headers, body: Uint8Array): string | null;
}

/** The delivery's own id inside a JSON body (`id` for Stripe, `event_id` for Slack), if it parses. */
function jsonField(body: Uint8Array, field: string): string | null {
  try {
    const value = JSON.parse(new TextDecoder().decode(body))?.[field];
    return typeof value === "string" && value.length > 0 && value.length <= 255 ? value : null;
  } catch {
    return null; // a validly signed body that does not parse is still accepted
  }
}

const withinTolerance = (timestamp: number, input: VerifyInput) => Math.abs(input.nowSeconds - timestamp) <= input.toleranceSeconds;

/** GitHub: `X-Hub-Signature-256: sha256=<hex HMAC(secret, body)>`; delivery id `X-GitHub-Delivery`. */
export const github: WebhookProvider = {
  name: "github",
  async verify(input) {
    const header = input.headers.get("x-hub-signature-256");
    if (!header) return { ok: false, reason: "missing_signature" };
    const signature = header.startsWith("sha256=") ? hexToBytes(header.slice(7)) : null;
    if (!signature || signature.length !== 32) return { ok: false, reason: "malformed_signature" };
    if (!(await hmacMatchesAny(input.secrets, input.body, signature))) return { ok: false, reason: "bad_signature" };
    return { ok: true };
  },
  // Not signed: a replay may carry any id, so the body hash is a dedupe key as well (webhook.ts).
  deliveryId: (headers) => headers.get("x-github-delivery")?.slice(0, 255) || null,
};

/** Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]` over `"<t>.<body>"`, within the tolerance; id = event `id`. */
export const stripe: WebhookProvider = {
  name: "stripe",
  async verify(input) {
    const header = input.headers.get("stripe-signature");
    if (!header) return { ok: false, reason: "missing_signature" };
    let timestamp: string | null = null;
    const signatures: Uint8Array[] = [];
    for (const part of header.split(",")) {
      const eq = part.indexOf("=");
      const [key, value] = [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
      if (key === "t") timestamp = value;
      else if (key === "v1") {
        const bytes = hexToBytes(value);
        if (bytes?.length === 32) signatures.push(bytes);
      }
    }
    if (timestamp === null) return { ok: false, reason: "missing_timestamp" };
    if (!/^\d{1,12}$/.test(timestamp) || signatures.length === 0) return { ok: false, reason: "malformed_signature" };
    if (!withinTolerance(Number(timestamp), input)) return { ok: false, reason: "stale_timestamp" };
    const signed = concatBytes(`${timestamp}.`, input.body);
    for (const signature of signatures) {
      if (await hmacMatchesAny(input.secrets, signed, signature)) return { ok: true };
    }
    return { ok: false, reason: "bad_signature" };
  },
  deliveryId: (_headers, body) => jsonField(body, "id"),
};

/** Slack: `X-Slack-Signature: v0=<hex>` over `"v0:<X-Slack-Request-Timestamp>:<body>"`, 5-minute window. */
export const slack: WebhookProvider = {
  name: "slack",
  async verify(input) {
    const header = input.headers.get("x-slack-signature");
    if (!header) return { ok: false, reason: "missing_signature" };
    const timestamp = input.headers.get("x-slack-request-timestamp");
    if (!timestamp) return { ok: false, reason: "missing_timestamp" };
    const signature = header.startsWith("v0=") ? hexToBytes(header.slice(3)) : null;
    if (!signature || signature.length !== 32 || !/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: "malformed_signature" };
    if (!withinTolerance(Number(timestamp), input)) return { ok: false, reason: "stale_timestamp" };
    if (!(await hmacMatchesAny(input.secrets, concatBytes(`v0:${timestamp}:`, input.body), signature))) return { ok: false, reason: "bad_signature" };
    return { ok: true };
  },
  deliveryId: (_headers, body) => jsonField(body, "event_id"),
};

export const PROVIDERS: Record<string, WebhookProvider> = { github, stripe, slack };
