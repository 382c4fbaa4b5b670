import { describe, expect, it } from "vitest";
import { addressOf, call, envelopeOf, gzip, metricsText } from "./helpers";

const SECRETS = {
  GITHUB_WEBHOOK_SECRET: "gh-secret-current",
  GITHUB_WEBHOOK_SECRET_PREVIOUS: "gh-secret-previous",
  STRIPE_WEBHOOK_SECRET: "whsec_stripe_current",
  SLACK_SIGNING_SECRET: "slack-signing-secret",
};
const encoder = new TextEncoder();

/** HMAC-SHA256 hex, the way the providers compute it. */
async function hmacHex(secret: string, message: string | Uint8Array): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, typeof message === "string" ? encoder.encode(message) : message);
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
const now = () => Math.floor(Date.now() / 1000);

const post = (provider: string, body: string | Uint8Array, headers: Record<string, string>, overrides: Record<string, string> = SECRETS) =>
  call(`/webhooks/${provider}`, { method: "POST", body, headers: { "Content-Type": "application/json", ...headers } }, overrides);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const metricValue = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, "\\$&")} (\\d+)$`, "m").exec(text)?.[1] ?? 0);

async function github(body: string, { secret = SECRETS.GITHUB_WEBHOOK_SECRET, delivery = crypto.randomUUID() } = {}) {
  return post("github", body, { "X-GitHub-Event": "push", "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": `sha256=${await hmacHex(secret, body)}` });
}
async function stripeHeader(body: string, t = now(), secret = SECRETS.STRIPE_WEBHOOK_SECRET) {
  return `t=${t},v1=${await hmacHex(secret, `${t}.${body}`)}`;
}
async function slackHeaders(body: string, t = now(), secret = SECRETS.SLACK_SIGNING_SECRET) {
  return { "X-Slack-Request-Timestamp": String(t), "X-Slack-Signature": `v0=${await hmacHex(secret, `v0:${t}:${body}`)}` };
}

async function received(topic: string) {
  const response = await call("/mailbox/recv", { method: "POST", body: JSON.stringify({ topic, max_messages: 100, visibility_ms: 60_000 }), headers: { "Content-Type": "application/json" } }, SECRETS);
  expect(response.status).toBe(200);
  return (await response.json<any>()).messages as any[];
}

async function expectRefused(response: Response, status: number, reason: string) {
  expect(response.status).toBe(status);
  expect((await envelopeOf(response)).reason).toBe(reason);
}

describe("POST /webhooks/:provider", () => {
  it("accepts a GitHub delivery signed with the secret: 202, BLAKE3 of the raw body, enqueued as is", async () => {
    const body = JSON.stringify({ zen: "Keep it logically awesome.", n: Math.random() });
    const delivery = crypto.randomUUID();
    const response = await github(body, { delivery });
    expect(response.status).toBe(202);
    const ack = await response.json<any>();
    expect(ack).toEqual({ accepted: true, duplicate: false, b3: addressOf(encoder.encode(body)), corr_id: response.headers.get("x-corr-id") });
    const messages = (await received("webhooks.github")).filter((m) => m.attrs["x-github-delivery"] === delivery);
    expect(messages).toHaveLength(1);
    expect(atob(messages[0].payload_b64)).toBe(body);
    expect(messages[0].payload_hash).toBe(ack.b3);
    expect(messages[0].idem_key).toBe(`github:${delivery}`);
    expect(messages[0].attrs["x-github-event"]).toBe("push");
    expect(JSON.stringify(messages[0])).not.toContain("sha256=");
  });

  it("acknowledges a redelivery of the same delivery but enqueues it once", async () => {
    const body = JSON.stringify({ redelivered: Math.random() });
    const delivery = crypto.randomUUID();
    const first = await (await github(body, { delivery })).json<any>();
    const again = await github(body, { delivery });
    expect(again.status).toBe(202);
    expect(await again.json<any>()).toMatchObject({ accepted: true, duplicate: true, b3: first.b3 });
    expect((await received("webhooks.github")).filter((m) => m.attrs["x-github-delivery"] === delivery)).toHaveLength(1);
  });

  it("treats a replay of the same signed bytes under a new X-GitHub-Delivery id as a duplicate", async () => {
    const body = JSON.stringify({ action: "opened", n: Math.random() });
    const signature = `sha256=${await hmacHex(SECRETS.GITHUB_WEBHOOK_SECRET, body)}`;
    const send = (delivery: string) => post("github", body, { "X-GitHub-Event": "push", "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": signature });
    const [first, second] = [crypto.randomUUID(), crypto.randomUUID()];
    expect(await (await send(first)).json<any>()).toMatchObject({ accepted: true, duplicate: false });
    const replay = await send(second); // the delivery id is not signed: anyone can change it
    expect(replay.status).toBe(202);
    expect((await replay.json<any>()).duplicate).toBe(true);
    const enqueued = (await received("webhooks.github")).filter((m) => atob(m.payload_b64) === body);
    expect(enqueued.map((m) => m.attrs["x-github-delivery"])).toEqual([first]);
  });

  it("verifies the signature over the wire bytes, before anything is decoded", async () => {
    const plain = JSON.stringify({ compressed: true, n: Math.random() });
    const wire = await gzip(encoder.encode(plain));
    const signed = (bytes: Uint8Array | string) => hmacHex(SECRETS.GITHUB_WEBHOOK_SECRET, bytes).then((hex) => `sha256=${hex}`);
    // signed over the gzip bytes as sent: accepted, enqueued decoded
    const accepted = await post("github", wire, { "Content-Encoding": "gzip", "X-GitHub-Delivery": crypto.randomUUID(), "X-Hub-Signature-256": await signed(wire) });
    expect(accepted.status).toBe(202);
    expect((await accepted.json<any>()).b3).toBe(addressOf(encoder.encode(plain)));
    expect((await received("webhooks.github")).some((m) => atob(m.payload_b64) === plain)).toBe(true);
    // a signature over the decoded bytes does not cover what was sent
    await expectRefused(await post("github", wire, { "Content-Encoding": "gzip", "X-Hub-Signature-256": await signed(plain) }), 401, "bad_signature");
    // an unsigned bomb or corrupt body is refused for its signature; it is never inflated
    await expectRefused(await post("github", encoder.encode("not gzip at all"), { "Content-Encoding": "gzip", "X-Hub-Signature-256": `sha256=${"0".repeat(64)}` }), 401, "bad_signature");
  });

  it("keeps earlier real audit records through 1000 forged deliveries, counting them all", async () => {
    const body = JSON.stringify({ real: true, n: Math.random() });
    const real = await github(body);
    expect(real.status).toBe(202);
    const realCorr = real.headers.get("x-corr-id");
    const metricsBefore = await metricsText();
    const forged = JSON.stringify({ forged: true });
    for (let batch = 0; batch < 20; batch++) {
      const responses = await Promise.all(Array.from({ length: 50 }, () => post("github", forged, { "X-GitHub-Delivery": crypto.randomUUID(), "X-Hub-Signature-256": `sha256=${"ab".repeat(32)}` })));
      for (const response of responses) expect(response.status).toBe(401);
    }
    const { records } = await (await call("/audit/tail?limit=512", {}, SECRETS)).json<any>();
    expect(records.some((r: any) => r.corr_id === realCorr && r.decision === "allow")).toBe(true);
    expect(records.filter((r: any) => r.reason === "bad_signature").length).toBeLessThanOrEqual(2);
    expect((await (await call("/audit/verify", {}, SECRETS)).json<any>()).ok).toBe(true);
    const series = 'webhook_denied_total{provider="github",reason="bad_signature"}';
    expect(metricValue(await metricsText(), series) - metricValue(metricsBefore, series)).toBe(1000);
  });

  it("audits one refusal of a kind per WEBHOOK_DENY_AUDIT_S, the next one carrying how many were left out", async () => {
    const knobs = { ...SECRETS, WEBHOOK_DENY_AUDIT_S: "1" };
    const forge = (corr: string) => post("slack", "forged", { "X-Corr-ID": corr, "X-Slack-Request-Timestamp": String(now()), "X-Slack-Signature": `v0=${"cd".repeat(32)}` }, knobs);
    await sleep(1_050); // a fresh interval for this kind
    const ids = Array.from({ length: 6 }, () => `forge-${crypto.randomUUID()}`);
    for (const id of ids.slice(0, 5)) expect((await forge(id)).status).toBe(401);
    await sleep(1_050);
    expect((await forge(ids[5]!)).status).toBe(401);
    const { records } = await (await call("/audit/tail?limit=512", {}, knobs)).json<any>();
    const mine = records.filter((r: any) => ids.includes(r.corr_id));
    expect(mine.map((r: any) => r.corr_id)).toEqual([ids[0], ids[5]]);
    expect(mine[1]).toMatchObject({ provider: "slack", decision: "deny", reason: "bad_signature", suppressed: 4 });
    expect((await (await call("/audit/verify", {}, knobs)).json<any>()).ok).toBe(true);
  });

  it("accepts the previous secret during rotation and refuses any other", async () => {
    const body = JSON.stringify({ rotation: true, n: Math.random() });
    expect((await github(body, { secret: SECRETS.GITHUB_WEBHOOK_SECRET_PREVIOUS })).status).toBe(202);
    await expectRefused(await github(body, { secret: "some-other-secret" }), 401, "bad_signature");
  });

  it("refuses missing, malformed and wrong GitHub signatures with 401 and a stable reason", async () => {
    const body = "{}";
    await expectRefused(await post("github", body, {}), 401, "missing_signature");
    await expectRefused(await post("github", body, { "X-Hub-Signature-256": "sha1=abcd" }), 401, "malformed_signature");
    await expectRefused(await post("github", body, { "X-Hub-Signature-256": "sha256=zz" }), 401, "malformed_signature");
    const tampered = await hmacHex(SECRETS.GITHUB_WEBHOOK_SECRET, "{ }");
    await expectRefused(await post("github", body, { "X-Hub-Signature-256": `sha256=${tampered}` }), 401, "bad_signature");
  });

  it("verifies Stripe signatures with several v1 values, and refuses stale or wrong ones", async () => {
    const body = JSON.stringify({ id: `evt_${crypto.randomUUID()}`, type: "payment_intent.succeeded" });
    const good = await stripeHeader(body);
    const withDecoy = `${good.split(",")[0]},v1=${"0".repeat(64)},${good.split(",")[1]}`;
    const response = await post("stripe", body, { "Stripe-Signature": withDecoy });
    expect(response.status).toBe(202);
    const again = await post("stripe", body, { "Stripe-Signature": await stripeHeader(body) }); // redelivered: same event id
    expect((await again.json<any>()).duplicate).toBe(true);
    await expectRefused(await post("stripe", body, { "Stripe-Signature": await stripeHeader(body, now() - 301) }), 401, "stale_timestamp");
    await expectRefused(await post("stripe", body, { "Stripe-Signature": await stripeHeader(body, now() + 400) }), 401, "stale_timestamp");
    await expectRefused(await post("stripe", body, { "Stripe-Signature": `v1=${"a".repeat(64)}` }), 401, "missing_timestamp");
    await expectRefused(await post("stripe", body, { "Stripe-Signature": `t=${now()},v1=${"a".repeat(64)}` }), 401, "bad_signature");
    await expectRefused(await post("stripe", body, { "Stripe-Signature": `t=${now()},v0=abc` }), 401, "malformed_signature");
  });

  it("accepts a validly signed Stripe body that is not JSON, keyed by its hash", async () => {
    const body = `not json ${Math.random()}`;
    const response = await post("stripe", body, { "Stripe-Signature": await stripeHeader(body), "Content-Type": "text/plain" });
    expect(response.status).toBe(202);
    expect((await response.json<any>()).b3).toBe(addressOf(encoder.encode(body)));
  });

  it("verifies Slack signatures within the 5-minute window", async () => {
    const body = `token=x&team_id=T1&text=${Math.random()}`;
    expect((await post("slack", body, await slackHeaders(body), SECRETS)).status).toBe(202);
    await expectRefused(await post("slack", body, await slackHeaders(body, now() - 600)), 401, "stale_timestamp");
    await expectRefused(await post("slack", body, { "X-Slack-Signature": "v0=" + "a".repeat(64) }), 401, "missing_timestamp");
    await expectRefused(await post("slack", body, { ...(await slackHeaders(body)), "X-Slack-Signature": "v1=abc" }), 401, "malformed_signature");
    await expectRefused(await post("slack", body + "x", await slackHeaders(body)), 401, "bad_signature");
  });

  it("answers 404 for unknown providers and for providers without a secret", async () => {
    const unknown = await post("gitlab", "{}", {});
    expect(unknown.status).toBe(404);
    await expectRefused(await post("github", "{}", {}, {}), 404, "provider_disabled");
  });

  it("applies the body cap and the decode guard", async () => {
    const body = "x".repeat(3000);
    await expectRefused(await post("github", body, { "X-Hub-Signature-256": `sha256=${await hmacHex(SECRETS.GITHUB_WEBHOOK_SECRET, body)}` }, { ...SECRETS, MAX_BODY_BYTES: "2048" }), 413, "body_cap");
    await expectRefused(await post("github", "{}", { "Content-Encoding": "br" }), 415, "unsupported_encoding");
  });

  it("counts verifications by provider and result", async () => {
    const text = await metricsText();
    expect(text).toMatch(/^webhook_verify_total\{provider="github",result="ok"\} [1-9]\d*$/m);
    expect(text).toMatch(/^webhook_verify_total\{provider="github",result="bad_signature"\} [1-9]\d*$/m);
    expect(text).toMatch(/^webhook_verify_total\{provider="stripe",result="stale_timestamp"\} [1-9]\d*$/m);
  });

  it("audits every decision, without signatures, in a chain that verifies", async () => {
    const verify = await (await call("/audit/verify", {}, SECRETS)).json<any>();
    expect(verify.ok).toBe(true);
    const { records } = await (await call("/audit/tail?limit=512", {}, SECRETS)).json<any>();
    const webhookRecords = records.filter((r: any) => r.route === "/webhooks/:provider");
    expect(webhookRecords.some((r: any) => r.decision === "allow" && r.provider === "github")).toBe(true);
    expect(webhookRecords.some((r: any) => r.decision === "deny" && r.reason === "bad_signature")).toBe(true);
    expect(webhookRecords.some((r: any) => r.decision === "deny" && r.reason === "provider_disabled")).toBe(true);
    expect(JSON.stringify(records)).not.toMatch(/sha256=|v1=|v0=|gh-secret|whsec_/);
  });
});
