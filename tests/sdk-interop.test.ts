/**
 * The SDK's interop helpers against the micronode worker inside workerd: put (identity and
 * gzip), get, head, and webhooks signed the way GitHub, Stripe and Slack sign them.
 */
import { describe, expect, it } from "vitest";
import { InteropClient, InteropError, signWebhook } from "../sdk";
import { addressOf, call, gzip, randomBytes, TOKEN } from "./helpers";
import { attenuate, inspectToken } from "../sdk";

const SECRETS = { GITHUB_WEBHOOK_SECRET: "sdk-github-secret", STRIPE_WEBHOOK_SECRET: "whsec_sdk_stripe", SLACK_SIGNING_SECRET: "sdk-slack-secret" };

/** Requests straight into the worker (no network), with exactly the headers the SDK sent. */
const intoWorker: typeof fetch = async (input, init) => {
  const headers = new Headers(init?.headers);
  if (!headers.has("authorization")) headers.set("authorization", ""); // no token: anonymous
  return call(new URL(String(input instanceof Request ? input.url : input)).pathname, { ...init, headers }, SECRETS);
};
const interop = new InteropClient("http://node", { fetch: intoWorker, token: TOKEN });

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

  it("sends its token with writes, attenuates it, and reads without one", async () => {
    const anonymous = new InteropClient("http://node", { fetch: intoWorker });
    await expect(anonymous.put(randomBytes(10))).rejects.toMatchObject({ status: 401, reason: "missing_token" });
    const docsOnly = interop.attenuated({ ops: ["edge.put"], prefix: "docs/", expires: Math.floor(Date.now() / 1000) + 60 });
    expect(inspectToken(docsOnly.token!).caveats).toEqual(["op = edge.put", "prefix = docs/", expect.stringMatching(/^expires = \d+$/)]);
    expect(await docsOnly.publish("docs/sdk.txt", new TextEncoder().encode("from the SDK"))).toMatchObject({ path: "docs/sdk.txt", created: true });
    await expect(docsOnly.publish("site/sdk.txt", new TextEncoder().encode("x"))).rejects.toMatchObject({ status: 403, reason: "caveat" });
    await expect(docsOnly.put(randomBytes(10))).rejects.toMatchObject({ status: 403, reason: "caveat" });
    const { address } = await new InteropClient("http://node", { fetch: intoWorker, token: attenuate(TOKEN, { ops: ["put"] }) }).put(new TextEncoder().encode("public read"));
    expect(new TextDecoder().decode((await anonymous.get(address))!)).toBe("public read");
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
