import { describe, expect, it } from "vitest";
import { addressOf, bytesOf, call, envelopeOf } from "./helpers";

const unique = () => crypto.randomUUID().slice(0, 8);
const encoder = new TextEncoder();
const publish = (path: string, body: Uint8Array | string, headers: Record<string, string> = {}) => call(`/edge/assets/${path}`, { method: "PUT", body, headers });
const hexOf = (bytes: Uint8Array) => addressOf(bytes).slice(3);

describe("edge ?b3= pins hold on every request", () => {
  it("answers 502 INTEGRITY_FAIL when a published asset's bytes are not the pinned ones, whatever the request", async () => {
    const path = `pin-${unique()}/app.js`;
    const v1 = encoder.encode("console.log('v1')");
    const v2 = encoder.encode("console.log('v2')");
    expect((await publish(path, v1)).status).toBe(201);
    expect((await publish(path, v2)).status).toBe(201); // the path now points at v2
    const stale = `/edge/assets/${path}?b3=${hexOf(v1)}`;
    for (const init of [{}, { headers: { Range: "bytes=0-3" } }, { headers: { "If-None-Match": `"${addressOf(v2)}"` } }] as RequestInit[]) {
      const response = await call(stale, init);
      expect(response.status).toBe(502);
      expect(await envelopeOf(response)).toMatchObject({ code: "INTEGRITY_FAIL", reason: "pin_mismatch" });
    }
    const head = await call(stale, { method: "HEAD" });
    expect(head.status).toBe(502);
    expect((await head.arrayBuffer()).byteLength).toBe(0);

    const pinned = await call(`/edge/assets/${path}?b3=${hexOf(v2)}`);
    expect(pinned.status).toBe(200);
    expect(await bytesOf(pinned)).toEqual(v2);
    expect(await (await call("/metrics")).text()).toMatch(/^edge_cache_misses_total\{cause="pin_mismatch"\} [1-9]\d*$/m);
  });
});
