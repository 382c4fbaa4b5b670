import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { pipeline, withCorrId, withErrorEnvelope, withMetrics } from "../shared/middleware";
import { serve } from "../shared/worker";
import { envelopeOf } from "./helpers";

/** A worker on the shared pipeline whose handler fails unexpectedly. */
const failing = serve(
  "test",
  pipeline(withCorrId(), withMetrics(), withErrorEnvelope())(async () => {
    throw new Error("kaboom: secret-free failure");
  }),
);

const ingest = () => `http://127.0.0.1:${inject("sentryIngestPort")}`;
const received = async (): Promise<{ path: string; body: string }[]> => (await fetch(`${ingest()}/__received`)).json();

async function fail(overrides: Record<string, string>, corrId: string) {
  const ctx = createExecutionContext();
  const response = await failing(new Request("http://node/anything", { headers: { "X-Corr-ID": corrId, Authorization: "Bearer top-secret" } }), { ...env, ...overrides } as any, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

describe("error reporting", () => {
  it("answers an unexpected exception with the opaque 500 envelope", async () => {
    const response = await fail({}, "corr-500");
    expect(response.status).toBe(500);
    expect(await envelopeOf(response)).toMatchObject({ code: "INTERNAL", message: "internal error", corr_id: "corr-500" });
  });

  it("sends nothing when SENTRY_DSN is unset", async () => {
    const before = (await received()).length;
    await fail({}, "corr-no-dsn");
    expect((await received()).length).toBe(before);
  });

  it("sends the exception to the configured DSN, tagged with corr id, without request secrets", async () => {
    const response = await fail({ SENTRY_DSN: `http://publickey@127.0.0.1:${inject("sentryIngestPort")}/42` }, "corr-sentry");
    expect(response.status).toBe(500);
    const events = (await received()).filter((e) => e.body.includes("corr-sentry"));
    expect(events).toHaveLength(1);
    expect(events[0]!.path).toMatch(/^\/api\/42\/envelope\//);
    expect(events[0]!.body).toContain("kaboom");
    expect(events[0]!.body).not.toContain("top-secret");
  });
});
