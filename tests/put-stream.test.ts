import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { r2Key, r2OutboardKey } from "../shared/store/r2-object-store";
import { R2, addressOf, amnesiaUsedBytes, bytesOf, call, envelopeOf, putRaw, randomBytes, tokenFor, trickle } from "./helpers";

/** Small groups and chunks, so a few KiB make a many-level tree (and G > chunk in the second set). */
const SMALL = { VERIFY_GROUP_BYTES: "1024", STREAM_CHUNK_BYTES: "4096" };
const WIDE_GROUPS = { VERIFY_GROUP_BYTES: "8192", STREAM_CHUNK_BYTES: "1024" };

const putStream = (address: string, body: BodyInit | null, headers: Record<string, string>, overrides: Record<string, string>) =>
  call(`/o/${address}`, { method: "PUT", body, headers }, overrides);

/** A body that sends `chunks` and then fails, as a client that goes away mid-upload. */
function abortingBody(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!);
      else controller.error(new Error("client went away"));
    },
  });
}

async function metric(name: string, ...labels: string[]): Promise<number> {
  const text = await (await call("/metrics")).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && labels.every((label) => l.includes(label)));
  return line ? Number(line.split(" ").pop()) : 0;
}

for (const [mode, storeOverrides] of [["amnesia", {}], ["r2", R2]] as const) {
  /** Nothing readable under the address, in the store's own terms too (R2 keys, RAM budget). */
  async function expectNothingStored(address: string, usedBefore: number, overrides: Record<string, string>) {
    expect((await call(`/o/${address}`, { method: "HEAD" }, overrides)).status).toBe(404);
    expect((await call(`/o/${address}`, {}, overrides)).status).toBe(404);
    if (mode === "r2") {
      expect(await env.OBJECTS.head(r2Key(address.slice(3)))).toBeNull();
      expect(await env.OBJECTS.head(r2OutboardKey(address.slice(3)))).toBeNull();
    } else expect(await amnesiaUsedBytes()).toBe(usedBefore);
  }

  for (const [shape, knobs] of [["groups smaller than chunks", SMALL], ["groups larger than chunks", WIDE_GROUPS]] as const) {
    const overrides = { ...storeOverrides, ...knobs };
    describe(`PUT /o/b3:<hex> (${mode} store, ${shape})`, () => {
      it.each([0, 1, 1024, 1025, 4096, 8192, 37 * 1024 + 5])("stores %i bytes that match their address: 201, then 200, then served whole", async (size) => {
        const bytes = randomBytes(size);
        const address = addressOf(bytes);
        // tiny random objects can be stored already (one empty object, 256 one-byte ones for every test)
        const existed = (await call(`/o/${address}`, { method: "HEAD" }, overrides)).status === 200;
        const first = await putStream(address, bytes, { "Content-Length": String(size) }, overrides);
        expect(first.status).toBe(existed ? 200 : 201);
        const body = (await first.json()) as { address: string; size: number; corr_id: string };
        expect(body).toEqual({ address, size, corr_id: first.headers.get("x-corr-id") });
        expect(first.headers.get("location")).toBe(`/o/${address}`);
        const again = await putStream(address, bytes, { "Content-Length": String(size) }, overrides);
        expect(again.status).toBe(200);
        const got = await call(`/o/${address}`, {}, overrides);
        expect(got.status).toBe(200);
        expect(await bytesOf(got)).toEqual(bytes);
      });

      it("stores the request's Content-Type and serves it", async () => {
        const bytes = randomBytes(3000);
        const address = addressOf(bytes);
        expect((await putStream(address, bytes, { "Content-Length": "3000", "Content-Type": "image/png" }, overrides)).status).toBe(201);
        expect((await call(`/o/${address}`, { method: "HEAD" }, overrides)).headers.get("content-type")).toBe("image/png");
      });

      it("fails closed when the bytes hash to another address: 422 ADDRESS_MISMATCH, nothing stored", async () => {
        const bytes = randomBytes(9 * 1024 + 3);
        const address = addressOf(bytes);
        const tampered = bytes.slice();
        tampered[5000]! ^= 1;
        const used = await amnesiaUsedBytes();
        const before = await metric("object_puts_total", `store="${mode}"`, `result="address_mismatch"`);
        const response = await putStream(address, tampered, { "Content-Length": String(tampered.length) }, overrides);
        expect(response.status).toBe(422);
        const envelope = await envelopeOf(response);
        expect(envelope.code).toBe("ADDRESS_MISMATCH");
        expect(envelope.reason).toBe("address_mismatch");
        await expectNothingStored(address, used, overrides);
        await expectNothingStored(addressOf(tampered), used, overrides); // not under the bytes' own address either
        expect(await metric("object_puts_total", `store="${mode}"`, `result="address_mismatch"`)).toBe(before + 1);
        // the right bytes can still be stored afterwards
        expect((await putStream(address, bytes, { "Content-Length": String(bytes.length) }, overrides)).status).toBe(201);
      });

      it("refuses a body that ends before its Content-Length, storing nothing", async () => {
        const bytes = randomBytes(6000);
        const address = addressOf(bytes);
        const used = await amnesiaUsedBytes();
        const response = await putStream(address, trickle([bytes.subarray(0, 2500), bytes.subarray(2500, 5000)]), { "Content-Length": "6000" }, overrides);
        expect(response.status).toBe(400);
        expect((await envelopeOf(response)).reason).toBe("short_body");
        await expectNothingStored(address, used, overrides);
      });

      it("refuses a body that runs past its Content-Length, storing nothing", async () => {
        const bytes = randomBytes(6000);
        const address = addressOf(bytes.subarray(0, 5000));
        const used = await amnesiaUsedBytes();
        const response = await putStream(address, trickle([bytes.subarray(0, 3000), bytes.subarray(3000)]), { "Content-Length": "5000" }, overrides);
        expect(response.status).toBe(413);
        expect((await envelopeOf(response)).reason).toBe("long_body");
        await expectNothingStored(address, used, overrides);
      });

      it("stores nothing when the client goes away mid-stream", async () => {
        const bytes = randomBytes(20_000);
        const address = addressOf(bytes);
        const used = await amnesiaUsedBytes();
        const response = await putStream(address, abortingBody([bytes.subarray(0, 4096), bytes.subarray(4096, 12_288)]), { "Content-Length": "20000" }, overrides);
        expect(response.status).toBe(400);
        expect((await envelopeOf(response)).reason).toBe("unreadable");
        await expectNothingStored(address, used, overrides);
      });
    });
  }

  describe(`PUT /o/b3:<hex> refusals (${mode} store)`, () => {
    const overrides = storeOverrides;

    it("needs a Content-Length: 411 LENGTH_REQUIRED", async () => {
      const bytes = randomBytes(100);
      const response = await putStream(addressOf(bytes), trickle([bytes]), {}, overrides);
      expect(response.status).toBe(411);
      expect((await envelopeOf(response)).code).toBe("LENGTH_REQUIRED");
    });

    it("refuses a Content-Length over MAX_OBJECT_BYTES before reading: 413 object_cap", async () => {
      const bytes = randomBytes(2000);
      const response = await putStream(addressOf(bytes), bytes, { "Content-Length": "2000" }, { ...overrides, MAX_OBJECT_BYTES: "1999" });
      expect(response.status).toBe(413);
      const envelope = await envelopeOf(response);
      expect(envelope.reason).toBe("object_cap");
      expect(envelope.message).toContain("MAX_OBJECT_BYTES");
    });

    it("takes objects past MAX_BODY_BYTES (the POST /put cap)", async () => {
      const bytes = randomBytes(3000);
      const address = addressOf(bytes);
      const response = await putStream(address, bytes, { "Content-Length": "3000" }, { ...overrides, MAX_BODY_BYTES: "1000" });
      expect(response.status).toBe(201);
      expect(await bytesOf(await call(`/o/${address}`, {}, overrides))).toEqual(bytes);
    });

    it("refuses Content-Encoding (stored as sent) with 415", async () => {
      const bytes = randomBytes(100);
      const response = await putStream(addressOf(bytes), bytes, { "Content-Length": "100", "Content-Encoding": "gzip" }, overrides);
      expect(response.status).toBe(415);
    });

    it("answers 400 MALFORMED for a malformed address", async () => {
      const response = await putStream("b3:xyz", new Uint8Array(1), { "Content-Length": "1" }, overrides);
      expect(response.status).toBe(400);
      expect((await envelopeOf(response)).code).toBe("MALFORMED");
    });

    it("needs a token allowing op put, within its max_bytes", async () => {
      const bytes = randomBytes(100);
      const address = addressOf(bytes);
      expect((await putStream(address, bytes, { "Content-Length": "100", authorization: "" }, overrides)).status).toBe(401);
      const mailboxOnly = `Bearer ${tokenFor({ ops: ["mailbox.send"] })}`;
      expect((await putStream(address, bytes, { "Content-Length": "100", authorization: mailboxOnly }, overrides)).status).toBe(403);
      const small = `Bearer ${tokenFor({ ops: ["put"], maxBytes: 99 })}`;
      expect((await putStream(address, bytes, { "Content-Length": "100", authorization: small }, overrides)).status).toBe(403);
      const enough = `Bearer ${tokenFor({ ops: ["put"], maxBytes: 100 })}`;
      expect([200, 201]).toContain((await putStream(address, bytes, { "Content-Length": "100", authorization: enough }, overrides)).status);
    });

    it("gives an upload time for its length at UPLOAD_MIN_BYTES_PER_S past REQUEST_TIMEOUT_MS", async () => {
      const bytes = randomBytes(4096);
      const address = addressOf(bytes);
      const slowly = () => trickle([bytes.subarray(0, 1024), bytes.subarray(1024, 2048), bytes.subarray(2048, 3072), bytes.subarray(3072)], 100);
      // 4 KiB at 1 KiB/s: 4 s more than the 150 ms deadline, and the body takes ~400 ms
      const response = await putStream(address, slowly(), { "Content-Length": "4096" }, { ...overrides, REQUEST_TIMEOUT_MS: "150", UPLOAD_MIN_BYTES_PER_S: "1024" });
      expect(response.status).toBe(201);
      // at a rate that adds nothing, the same body passes the deadline: 503 TIMEOUT, nothing stored
      const other = randomBytes(4096);
      const otherAddress = addressOf(other);
      const used = await amnesiaUsedBytes();
      const late = await putStream(otherAddress, trickle([other.subarray(0, 2048), other.subarray(2048)], 300), { "Content-Length": "4096" }, { ...overrides, REQUEST_TIMEOUT_MS: "150", UPLOAD_MIN_BYTES_PER_S: "1073741824" });
      expect(late.status).toBe(503);
      expect((await envelopeOf(late)).reason).toBe("TIMEOUT");
      await expectNothingStored(otherAddress, used, overrides);
    });

    it("answers 422 to wrong bytes for an object already stored, and keeps the stored one", async () => {
      const bytes = randomBytes(5000);
      const address = addressOf(bytes);
      expect((await putStream(address, bytes, { "Content-Length": "5000" }, overrides)).status).toBe(201);
      const other = randomBytes(5000);
      const response = await putStream(address, other, { "Content-Length": "5000" }, overrides);
      expect(response.status).toBe(422);
      expect(await bytesOf(await call(`/o/${address}`, {}, overrides))).toEqual(bytes);
    });
  });
}

describe("POST /put keeps its 1 MiB seed contract", () => {
  it("names the streaming route in its 413, by Content-Length and while streaming", async () => {
    const bytes = randomBytes(2000);
    const declared = await putRaw(bytes, { "Content-Length": "2000" }, { MAX_BODY_BYTES: "1000" });
    expect(declared.status).toBe(413);
    expect((await envelopeOf(declared)).message).toContain("PUT /o/b3:<hex>");
    const streamed = await call("/put", { method: "POST", body: trickle([bytes]), headers: { "Content-Type": "application/octet-stream" } }, { MAX_BODY_BYTES: "1000" });
    expect(streamed.status).toBe(413);
    expect((await envelopeOf(streamed)).message).toContain("PUT /o/b3:<hex>");
  });
});
