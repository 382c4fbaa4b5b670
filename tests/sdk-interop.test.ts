/**
 * The SDK's interop helpers against the micronode worker inside workerd: put (identity and
 * gzip), get, head, and webhooks signed the way GitHub, Stripe and Slack sign them.
 */
import { describe, expect, it } from "vitest";
import { InteropClient, InteropError, signWebhook } from "../sdk";
import { addressOf, call, gzip, randomBytes } from "./helpers";

const SECRETS = { GITHUB_WEBHOOK_SECRET: "sdk-github-secret", STRIPE_WEBHOOK_SECRET: "whsec_sdk_stripe", SLACK_SIGNING_SECRET: "sdk-slack-secret" };

/** An InteropClient whose requests go straight into the worker (no network). */
const interop = new InteropClient("http://node", {
  fetch: async (input, init) => call(new URL(String(input instanceof Request ? input.url : input)).pathname, init, SECRETS),
});

describe("InteropClient", () => {
  it("puts bytes (identity and gzip) and reads them back by address", async () => {
    const bytes = randomBytes(5_000);
    const first = await interop.put(bytes);
    expect(first).toMatchObject({ address: addressOf(bytes), size: 5_000, created: true });
    const again = await interop.put(await gzip(bytes), { encoding: "gzip" });
    expect(again).toMatchObject({ address: addressOf(bytes), created: false });
    expect(await interop.get(first.address)).toEqual(bytes);
    expect(await interop.head(first.address)).toEqual({ size: 5_000, etag: `"${first.address}"` });
    expect(await interop.get(`b3:${"e".repeat(64)}`)).toBeNull();
    expect(await interop.head(`b3:${"e".repeat(64)}`)).toBeNull();
  });

  it("throws InteropError with the envelope's fields on a refusal", async () => {
    const error = await interop.put(new TextEncoder().encode("not gzip"), { encoding: "gzip" }).catch((e) => e);
    expect(error).toBeInstanceOf(InteropError);
    expect(error).toMatchObject({ status: 400 });
  });

  it("signs webhooks as each provider does: all three are accepted, a wrong secret is not", async () => {
    for (const provider of ["github", "stripe", "slack"] as const) {
      const secret = { github: SECRETS.GITHUB_WEBHOOK_SECRET, stripe: SECRETS.STRIPE_WEBHOOK_SECRET, slack: SECRETS.SLACK_SIGNING_SECRET }[provider];
      const body = JSON.stringify({ id: `evt_${crypto.randomUUID()}`, event_id: crypto.randomUUID(), provider });
      expect(await interop.webhook(provider, body, secret)).toMatchObject({ accepted: true, duplicate: false });
      await expect(interop.webhook(provider, body, "a-wrong-secret-value")).rejects.toMatchObject({ status: 401 });
    }
    expect(Object.keys(await signWebhook("slack", new Uint8Array(0), "x", { timestamp: 1 }))).toEqual(["x-slack-signature", "x-slack-request-timestamp"]);
  });
});
