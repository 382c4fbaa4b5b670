import { describe, expect, it } from "vitest";
import { blake3 } from "../shared/blake3";
import { TEXT_B3, TEXT_BYTES, TEXT_ZST_B64, ZEROS_64MIB_ZST_B64 } from "./fixtures/zstd-fixtures";
import { R2, addressOf, base64, bytesOf, call, compressibleBytes, envelopeOf, gzip, putJson, putRaw, randomBytes, trickle, metricsText } from "./helpers";

const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const MIB = 1024 * 1024;

for (const [mode, overrides] of [["amnesia", {}], ["r2", R2]] as const) {
  describe(`POST /put (${mode} store)`, () => {
    it("stores raw octets under their BLAKE3 address: 201 first, 200 after, bytes served back", async () => {
      const bytes = randomBytes(5000);
      const first = await putRaw(bytes, {}, overrides);
      expect(first.status).toBe(201);
      const body = await first.json<any>();
      expect(body).toEqual({ address: addressOf(bytes), size: 5000, corr_id: first.headers.get("x-corr-id") });
      expect(first.headers.get("location")).toBe(`/o/${addressOf(bytes)}`);
      const again = await putRaw(bytes, {}, overrides);
      expect(again.status).toBe(200);
      expect((await again.json<any>()).address).toBe(addressOf(bytes));
      const get = await call(`/o/${addressOf(bytes)}`, {}, overrides);
      expect(await bytesOf(get)).toEqual(bytes);
    });

    it("hashes the decoded bytes of a gzip body", async () => {
      const plain = compressibleBytes(100_000);
      const response = await putRaw(await gzip(plain), { "Content-Encoding": "gzip" }, overrides);
      expect(response.status).toBe(201);
      expect((await response.json<any>()).address).toBe(addressOf(plain));
      expect(await bytesOf(await call(`/o/${addressOf(plain)}`, {}, overrides))).toEqual(plain);
    });

    it("hashes the decoded bytes of a zstd body", async () => {
      const response = await putRaw(fromBase64(TEXT_ZST_B64), { "Content-Encoding": "zstd" }, overrides);
      expect([200, 201]).toContain(response.status);
      const body = await response.json<any>();
      expect(body.address).toBe(`b3:${TEXT_B3}`);
      expect(body.size).toBe(TEXT_BYTES);
    });

    it("accepts the JSON envelope with type and encoding, and serves the stored type", async () => {
      const plain = compressibleBytes(20_000);
      const response = await putJson(
        { payload: base64(await gzip(plain)), meta: { type: "text/plain; charset=utf-8", content_encoding: "gzip", provider: "test" } },
        overrides,
      );
      expect(response.status).toBe(201);
      const { address, size } = await response.json<any>();
      expect(address).toBe(addressOf(plain));
      expect(size).toBe(plain.length);
      const get = await call(`/o/${address}`, {}, overrides);
      expect(get.headers.get("content-type")).toBe("text/plain; charset=utf-8");
      expect(await bytesOf(get)).toEqual(plain);
    });

    it("stores concurrent PUTs of the same content once: exactly one 201", async () => {
      const bytes = randomBytes(40_000);
      const responses = await Promise.all(Array.from({ length: 12 }, () => putRaw(bytes, {}, overrides)));
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      expect(statuses.filter((s) => s === 200)).toHaveLength(11);
      for (const r of responses) expect((await r.json<any>()).address).toBe(addressOf(bytes));
    });

    it("stores concurrent PUTs of different content each under its own address", async () => {
      const inputs = Array.from({ length: 12 }, (_, i) => randomBytes(1000 + i * 3001));
      const responses = await Promise.all(inputs.map((b) => putRaw(b, {}, overrides)));
      for (const [i, r] of responses.entries()) {
        expect(r.status).toBe(201);
        expect((await r.json<any>()).address).toBe(addressOf(inputs[i]!));
      }
      const served = await Promise.all(inputs.map((b) => call(`/o/${addressOf(b)}`, {}, overrides).then(bytesOf)));
      served.forEach((bytes, i) => expect(bytes).toEqual(inputs[i]));
    });
  });
}

describe("POST /put notifications and readiness", () => {
  const recvPut = async (overrides: Record<string, string> = {}) => {
    const response = await call("/mailbox/recv", { method: "POST", body: JSON.stringify({ topic: "put", max_messages: 100 }), headers: { "Content-Type": "application/json" } }, overrides);
    return ((await response.json<any>()).messages as any[]).map((m) => JSON.parse(atob(m.payload_b64)));
  };

  it("leaves /readyz 200 after 600 uploads on the defaults, and enqueues no notifications", async () => {
    for (let batch = 0; batch < 30; batch++) {
      const responses = await Promise.all(Array.from({ length: 20 }, () => putRaw(randomBytes(32))));
      for (const response of responses) expect(response.status).toBe(201);
    }
    const ready = await call("/readyz");
    expect(await ready.json<any>()).toEqual({ ready: true });
    expect(ready.status).toBe(200);
    expect(await recvPut()).toEqual([]);
  });

  it("notifies the put topic only when PUT_NOTIFY is on", async () => {
    const on = { PUT_NOTIFY: "true" };
    const bytes = randomBytes(48);
    const { address } = await (await putRaw(bytes, {}, on)).json<any>();
    expect(await recvPut(on)).toEqual([{ address, size: 48, type: "application/octet-stream" }]);
  });

  it("sends the notifications of concurrent PUTs in fewer calls than PUTs, each one once, with its own corr_id", async () => {
    const on = { PUT_NOTIFY: "true", BACKGROUND_BATCH_MS: "50" };
    const calls = async () => Number(/^background_batches_total\{kind="put_notify"\} (\d+)$/m.exec(await metricsText())?.[1] ?? 0);
    const before = await calls();
    const responses = await Promise.all(Array.from({ length: 20 }, () => putRaw(randomBytes(40), {}, on)));
    const puts = await Promise.all(responses.map((r) => r.json<any>()));
    const made = (await calls()) - before;
    expect(made).toBeGreaterThanOrEqual(1);
    expect(made).toBeLessThan(20);
    const response = await call("/mailbox/recv", { method: "POST", body: JSON.stringify({ topic: "put", max_messages: 100 }), headers: { "Content-Type": "application/json" } }, on);
    const messages = (await response.json<any>()).messages as any[];
    for (const put of puts) {
      const mine = messages.filter((m) => JSON.parse(atob(m.payload_b64)).address === put.address);
      expect(mine).toHaveLength(1);
      expect(mine[0].corr_id).toBe(put.corr_id);
    }
  });
});

describe("POST /put limits and bad input", () => {
  async function expectRefused(response: Response, status: number, code: string, reason?: string) {
    expect(response.status).toBe(status);
    const envelope = await envelopeOf(response);
    expect(envelope.code).toBe(code);
    if (reason) expect(envelope.reason).toBe(reason);
  }

  it("refuses a request with no body (400 empty_body) but stores a zero-byte body as the empty object (201, size 0)", async () => {
    const none = await call("/put", { method: "POST", headers: { "Content-Type": "application/octet-stream" } });
    expect(none.status).toBe(400);
    expect(await envelopeOf(none)).toMatchObject({ code: "BAD_REQUEST", reason: "empty_body" });
    const empty = await call("/put", { method: "POST", body: "", headers: { "Content-Type": "application/octet-stream", "Content-Length": "0" } });
    expect([200, 201]).toContain(empty.status);
    expect(await empty.json()).toMatchObject({ address: addressOf(new Uint8Array(0)), size: 0 });
  });

  it("accepts a body of exactly MAX_BODY_BYTES and refuses one byte more (413) by Content-Length", async () => {
    expect((await putRaw(randomBytes(MIB))).status).toBe(201);
    await expectRefused(await putRaw(randomBytes(MIB + 1)), 413, "PAYLOAD_TOO_LARGE", "body_cap");
  });

  it("counts chunked bodies with no Content-Length and refuses them past the cap", async () => {
    const chunks = Array.from({ length: 17 }, () => randomBytes(64 * 1024)); // 1 MiB + 64 KiB
    const response = await call("/put", { method: "POST", body: trickle(chunks), headers: { "Content-Type": "application/octet-stream" }, duplex: "half" } as RequestInit);
    await expectRefused(response, 413, "PAYLOAD_TOO_LARGE", "body_cap");
    const ok = await call("/put", { method: "POST", body: trickle(chunks.slice(0, 3)), duplex: "half" } as RequestInit);
    expect(ok.status).toBe(201);
  });

  it("honours MAX_BODY_BYTES set in the environment", async () => {
    await expectRefused(await putRaw(randomBytes(2049), {}, { MAX_BODY_BYTES: "2048" }), 413, "PAYLOAD_TOO_LARGE");
    expect((await putRaw(randomBytes(2048), {}, { MAX_BODY_BYTES: "2048" })).status).toBe(201);
  });

  it("stops a gzip bomb while streaming (413) and stores nothing", async () => {
    const bomb = await gzip(new Uint8Array(64 * MIB));
    expect(bomb.length).toBeLessThan(MIB);
    await expectRefused(await putRaw(bomb, { "Content-Encoding": "gzip" }), 413, "PAYLOAD_TOO_LARGE", "decompress_ratio");
    const stored = await call(`/o/b3:${blake3().hashHex(new Uint8Array(64 * MIB))}`);
    expect(stored.status).toBe(404);
  });

  it("stops a zstd bomb while streaming (413)", async () => {
    await expectRefused(await putRaw(fromBase64(ZEROS_64MIB_ZST_B64), { "Content-Encoding": "zstd" }), 413, "PAYLOAD_TOO_LARGE", "decompress_ratio");
  });

  it("applies the absolute decoded cap even when the ratio would allow more", async () => {
    const plain = compressibleBytes(300_000);
    const response = await putRaw(await gzip(plain), { "Content-Encoding": "gzip" }, { DECOMPRESS_MAX_BYTES: "200000" });
    await expectRefused(response, 413, "PAYLOAD_TOO_LARGE", "decompress_max");
  });

  it("refuses a body whose decoded size is over 10x its wire size", async () => {
    const zeros = await gzip(new Uint8Array(200_000)); // ~200 bytes on the wire
    await expectRefused(await putRaw(zeros, { "Content-Encoding": "gzip" }), 413, "PAYLOAD_TOO_LARGE", "decompress_ratio");
  });

  it("refuses a gzip bomb inside the JSON envelope", async () => {
    const bomb = await gzip(new Uint8Array(16 * MIB));
    await expectRefused(await putJson({ payload: base64(bomb), meta: { content_encoding: "gzip" } }), 413, "PAYLOAD_TOO_LARGE");
  });

  it("refuses unknown and stacked encodings with 415", async () => {
    await expectRefused(await putRaw(randomBytes(10), { "Content-Encoding": "br" }), 415, "UNSUPPORTED_MEDIA_TYPE", "unsupported_encoding");
    await expectRefused(await putRaw(randomBytes(10), { "Content-Encoding": "gzip, zstd" }), 415, "UNSUPPORTED_MEDIA_TYPE", "stacked_encoding");
    await expectRefused(await putRaw(randomBytes(10), { "Content-Encoding": "gzip, gzip" }), 415, "UNSUPPORTED_MEDIA_TYPE", "stacked_encoding");
  });

  it("refuses other media types and Content-Encoding on JSON with 415", async () => {
    await expectRefused(await call("/put", { method: "POST", body: "a=b", headers: { "Content-Type": "application/x-www-form-urlencoded" } }), 415, "UNSUPPORTED_MEDIA_TYPE");
    await expectRefused(
      await call("/put", { method: "POST", body: "{}", headers: { "Content-Type": "application/json", "Content-Encoding": "gzip" } }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      "encoding_on_json",
    );
  });

  it("refuses corrupt and truncated gzip with 400", async () => {
    const good = await gzip(compressibleBytes(50_000));
    const corrupt = good.slice();
    corrupt.fill(0x55, 20, 60);
    await expectRefused(await putRaw(corrupt, { "Content-Encoding": "gzip" }), 400, "MALFORMED", "corrupt_gzip");
    await expectRefused(await putRaw(good.slice(0, good.length - 30), { "Content-Encoding": "gzip" }), 400, "MALFORMED", "corrupt_gzip");
    await expectRefused(await putRaw(randomBytes(100), { "Content-Encoding": "gzip" }), 400, "MALFORMED", "corrupt_gzip");
    const badChecksum = good.slice();
    badChecksum[badChecksum.length - 8]! ^= 0xff; // first byte of the CRC-32 trailer
    await expectRefused(await putRaw(badChecksum, { "Content-Encoding": "gzip" }), 400, "MALFORMED", "corrupt_gzip");
  });

  it("refuses corrupt and truncated zstd with 400", async () => {
    const good = fromBase64(TEXT_ZST_B64);
    const corrupt = good.slice();
    corrupt.fill(0xaa, 10, 200);
    await expectRefused(await putRaw(corrupt, { "Content-Encoding": "zstd" }), 400, "MALFORMED", "corrupt_zstd");
    await expectRefused(await putRaw(good.slice(0, good.length - 100), { "Content-Encoding": "zstd" }), 400, "MALFORMED", "corrupt_zstd");
    await expectRefused(await putRaw(randomBytes(100), { "Content-Encoding": "zstd" }), 400, "MALFORMED", "corrupt_zstd");
  });

  it("refuses bad JSON, unknown fields, bad base64 and bad meta with 400", async () => {
    const post = (body: string) => call("/put", { method: "POST", body, headers: { "Content-Type": "application/json" } });
    await expectRefused(await post("{not json"), 400, "MALFORMED", "bad_json");
    await expectRefused(await post(JSON.stringify({ payload: "aGk=", extra: 1 })), 400, "BAD_REQUEST", "bad_envelope");
    await expectRefused(await post(JSON.stringify({ payload: "aGk=", meta: { colour: "red" } })), 400, "BAD_REQUEST", "bad_envelope");
    await expectRefused(await post(JSON.stringify({ meta: {} })), 400, "BAD_REQUEST", "bad_envelope");
    await expectRefused(await post(JSON.stringify({ payload: 42 })), 400, "BAD_REQUEST", "bad_envelope");
    await expectRefused(await post(JSON.stringify({ payload: "not base64!" })), 400, "BAD_REQUEST", "bad_base64");
    await expectRefused(await post(JSON.stringify({ payload: "aGk=", meta: { content_encoding: "br" } })), 400, "BAD_REQUEST", "bad_envelope");
    await expectRefused(await post(JSON.stringify({ payload: "aGk=", meta: { type: "not a type" } })), 400, "BAD_REQUEST", "bad_envelope");
    await expectRefused(await post(JSON.stringify(["payload"])), 400, "BAD_REQUEST", "bad_envelope");
  });

  it("accepts an upstream object kind in meta.type (\"blob\") and stores it as application/octet-stream", async () => {
    const bytes = new TextEncoder().encode("an upstream blob");
    const put = await call("/put", { method: "POST", body: JSON.stringify({ payload: base64(bytes), meta: { type: "blob" } }), headers: { "Content-Type": "application/json" } });
    expect(put.status).toBeLessThan(300);
    const { address } = await put.json<{ address: string }>();
    expect(address).toBe(addressOf(bytes));
    const got = await call(`/o/${address}`);
    expect(got.headers.get("content-type")).toBe("application/octet-stream");
    expect(await bytesOf(got)).toEqual(bytes);
    const refused = await call("/put", { method: "POST", body: JSON.stringify({ payload: "aGk=", meta: { type: "Blob!" } }), headers: { "Content-Type": "application/json" } });
    expect((await envelopeOf(refused)).message).toMatch(/upstream kind like blob/);
  });

  it("stores the empty object", async () => {
    const response = await putRaw(new Uint8Array(0));
    expect([200, 201]).toContain(response.status);
    expect((await response.json<any>()).address).toBe("b3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
  });

  it("answers 405 with Allow for other methods on /put", async () => {
    const response = await call("/put", { method: "GET" });
    await expectRefused(response, 405, "METHOD_NOT_ALLOWED");
    expect(response.headers.get("allow")).toBe("POST");
  });
});
