/**
 * Identity bodies read straight from the request into as few buffers as possible: the bytes
 * stored are exactly the bytes sent whatever Content-Length claims, the cap holds when it
 * understates, and reading plus hashing costs little more than hashing.
 */
import { describe, expect, it } from "vitest";
import { readDecodedBody } from "../shared/body/read-body";
import { addressOf, bytesOf, call, envelopeOf, randomBytes } from "./helpers";

const MIB = 1024 * 1024;
const put = (body: BodyInit, headers: Record<string, string>, overrides: Record<string, string> = {}) =>
  call("/put", { method: "POST", body, headers: { "Content-Type": "application/octet-stream", ...headers }, duplex: "half" } as RequestInit, overrides);

/** A JS stream (not a byte stream) handing out `chunks` one pull at a time. */
const trickle = (chunks: Uint8Array[]) =>
  new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks.shift();
      if (next) controller.enqueue(next);
      else controller.close();
    },
  });

describe("identity body read", () => {
  it("stores exactly the bytes sent when Content-Length overstates or understates them", async () => {
    for (const [size, declared] of [[10, 4096], [300 * 1024, 1000], [70_000, 70_000], [0, 0]] as const) {
      const bytes = randomBytes(size);
      const response = await put(bytes, { "Content-Length": String(declared) });
      expect(response.status).toBeLessThan(300);
      const body = await response.json<{ address: string; size: number }>();
      expect(body).toMatchObject({ address: addressOf(bytes), size });
      const stored = await bytesOf(await call(`/o/${body.address}`));
      expect(stored).toEqual(bytes);
    }
  });

  it("refuses a body past the cap with 413 body_cap even when Content-Length understates it", async () => {
    for (const body of [randomBytes(MIB + 1), trickle(Array.from({ length: 17 }, () => randomBytes(64 * 1024)))]) {
      const response = await put(body, { "Content-Length": "1000" });
      expect(response.status).toBe(413);
      expect(await envelopeOf(response)).toMatchObject({ code: "PAYLOAD_TOO_LARGE", reason: "body_cap" });
    }
  });

  it("reads a 1 MiB body into exactly its bytes and its BLAKE3 (the cost is in npm run bench: identity-read-hash)", async () => {
    const body = randomBytes(MIB);
    const limits = { maxWireBytes: 64 * MIB, ratioCap: 10, maxDecodedBytes: 64 * MIB };
    const result = await readDecodedBody(new Blob([body]).stream(), "identity", limits, new AbortController().signal, MIB);
    expect(`b3:${result.hex}`).toBe(addressOf(body));
    expect(result.bytes).toEqual(body);
  });
});
