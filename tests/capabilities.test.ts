import { importMacaroon, newMacaroon } from "macaroon";
import { describe, expect, it } from "vitest";
import { attenuateToken, decodeRootKey, inspectToken, mintToken, rootKeyOf } from "../shared/capability";
import { addFirstPartyCaveat, createMacaroon, encodeMacaroon } from "../shared/capability/macaroon-v2";
import { encodeToken, verifyToken } from "../shared/capability/token";
import vector from "./fixtures/macaroon-vector.json";
import { ANONYMOUS, base64, call, envelopeOf, randomBytes, ROOT_KEY, TOKEN, tokenFor } from "./helpers";
import { metricValue } from "./overlay-helpers";

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const otherRoot = rootKeyOf(randomBytes(32));
const hexOf = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
const now = () => Math.floor(Date.now() / 1000);
const topic = () => `cap-${crypto.randomUUID().slice(0, 8)}`;

/** POST /put; a string body declares its Content-Length, as HTTP clients do. */
const putObject = (headers: Record<string, string>, body: string | ReadableStream = "capability bytes", overrides: Record<string, string> = {}) =>
  call("/put", { method: "POST", body, headers: { "Content-Type": "application/octet-stream", ...(typeof body === "string" ? { "Content-Length": String(new TextEncoder().encode(body).length) } : {}), ...headers } }, overrides);
const postJson = (path: string, body: unknown, headers: Record<string, string>, overrides: Record<string, string> = {}) =>
  call(path, { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json", ...headers } }, overrides);

/** Every route that needs a token, with the op it needs and a request that passes when allowed. */
const ROUTES = [
  { op: "put", send: (h: Record<string, string>) => putObject(h) },
  { op: "edge.put", send: (h: Record<string, string>) => call(`/edge/assets/cap/${crypto.randomUUID()}.txt`, { method: "PUT", body: "asset", headers: h }) },
  { op: "mailbox.send", send: (h: Record<string, string>) => postJson("/mailbox/send", { topic: topic(), idem_key: "k", payload_b64: base64(new TextEncoder().encode("m")) }, h) },
  { op: "mailbox.recv", send: (h: Record<string, string>) => postJson("/mailbox/recv", { topic: topic() }, h) },
  { op: "mailbox.recv", send: (h: Record<string, string>) => postJson("/mailbox/dlq", { topic: topic() }, h) },
  { op: "mailbox.ack", send: (h: Record<string, string>) => call(`/mailbox/ack/${topic()}:${crypto.randomUUID()}`, { method: "POST", headers: h }) },
  { op: "mailbox.ack", send: (h: Record<string, string>) => call(`/mailbox/nack/${topic()}:${crypto.randomUUID()}`, { method: "POST", headers: h }) },
  { op: "audit.read", send: (h: Record<string, string>) => call("/audit/verify", { headers: h }) },
  { op: "audit.read", send: (h: Record<string, string>) => call("/audit/tail?limit=5", { headers: h }) },
  { op: "metrics", send: (h: Record<string, string>) => call("/metrics", { headers: h }) },
] as const;

describe("capability tokens", () => {
  it("are v2 binary macaroons in unpadded base64url whose identifier names the root key", () => {
    const token = tokenFor({ ops: ["put"], expires: 2_000_000_000 });
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    const bytes = Uint8Array.from(atob(token.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (token.length % 4)) % 4)), (c) => c.charCodeAt(0));
    expect(bytes[0]).toBe(2); // libmacaroons v2 binary
    const inspected = inspectToken(token);
    expect(inspected.identifier).toMatch(new RegExp(`^ron1:${ROOT_KEY.id}:[0-9a-f]{32}$`));
    expect(inspected.caveats).toEqual(["op = put", "expires = 2000000000"]);
  });

  it("route by route: 401 without a token, 403 for another op, allowed with the route's op", async () => {
    for (const route of ROUTES) {
      const missing = await route.send({ ...ANONYMOUS });
      expect(missing.status, `${route.op} anonymous`).toBe(401);
      expect(missing.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
      expect(await envelopeOf(missing)).toMatchObject({ code: "UNAUTHORIZED", reason: "missing_token" });

      const other = route.op === "put" ? "edge.put" : "put";
      const wrongOp = await route.send(bearer(tokenFor({ ops: [other] })));
      expect(wrongOp.status, `${route.op} with ${other}`).toBe(403);
      expect(await envelopeOf(wrongOp)).toMatchObject({ code: "FORBIDDEN", reason: "caveat" });

      const allowed = await route.send(bearer(tokenFor({ ops: [route.op] })));
      expect([401, 403], `${route.op} allowed`).not.toContain(allowed.status);
      expect(allowed.status).toBeLessThan(500);
      await allowed.arrayBuffer();
    }
  });

  it("`admin` allows every op; a token with no op caveat allows every op", async () => {
    expect((await putObject(bearer(tokenFor({ ops: ["admin"] })))).status).toBeLessThan(300);
    expect((await call("/audit/verify", { headers: bearer(tokenFor({ ops: ["admin"] })) })).status).toBe(200);
    expect((await call("/audit/verify", { headers: bearer(TOKEN) })).status).toBe(200);
  });

  it("attenuation without the root key only narrows: adding ops back never widens", async () => {
    const putOnly = attenuateToken(TOKEN, { ops: ["put"] });
    expect((await putObject(bearer(putOnly))).status).toBeLessThan(300);
    expect((await call("/audit/verify", { headers: bearer(putOnly) })).status).toBe(403);
    const widened = attenuateToken(putOnly, { ops: ["admin", "audit.read"] });
    expect((await call("/audit/verify", { headers: bearer(widened) })).status).toBe(403);
    expect((await putObject(bearer(widened))).status).toBeLessThan(300); // still exactly {put}
  });

  it("expiry: 401 expired once `expires` has passed, allowed before", async () => {
    const expired = await putObject(bearer(tokenFor({ expires: now() - 1 })));
    expect(expired.status).toBe(401);
    expect(await envelopeOf(expired)).toMatchObject({ code: "UNAUTHORIZED", reason: "expired" });
    expect((await putObject(bearer(tokenFor({ expires: now() + 60 })))).status).toBeLessThan(300);
    // an attenuation can shorten the life of a token, never extend it
    const shortened = attenuateToken(tokenFor({ expires: now() + 60 }), { expires: now() - 5 });
    expect(await envelopeOf(await putObject(bearer(shortened)))).toMatchObject({ reason: "expired" });
    const extended = attenuateToken(tokenFor({ expires: now() - 5 }), { expires: now() + 3600 });
    expect(await envelopeOf(await putObject(bearer(extended)))).toMatchObject({ reason: "expired" });
  });

  it("tampering, garbage, a removed caveat and a wrong root are 401 bad_token", async () => {
    const token = tokenFor({ ops: ["put"] });
    const flipped = token.slice(0, -3) + (token.at(-3) === "A" ? "B" : "A") + token.slice(-2);
    const cases = [flipped, "not-a-macaroon", "A".repeat(5000), mintToken(otherRoot)];
    // strip the caveat: same identifier and signature, no caveats (what a forger would try)
    const parsed = importMacaroon(token);
    cases.push(encodeToken(encodeMacaroon({ identifier: parsed.identifier, caveats: [], signature: parsed.signature })));
    for (const bad of cases) {
      const response = await putObject(bearer(bad));
      expect(response.status, bad.slice(0, 20)).toBe(401);
      expect(await envelopeOf(response)).toMatchObject({ code: "UNAUTHORIZED", reason: "bad_token" });
      expect(response.headers.get("WWW-Authenticate")).toContain('error="invalid_token"');
    }
    const basic = await putObject({ authorization: "Basic dXNlcjpwYXNz" });
    expect(await envelopeOf(basic)).toMatchObject({ reason: "bad_token" });
  });

  it("matches the documented test vector (docs/SECURITY.md), checked by js-macaroon and WebCrypto", async () => {
    const key = Uint8Array.from(vector.root_key_hex.match(/../g)!, (h) => parseInt(h, 16));
    const keyId = hexOf(new Uint8Array(await crypto.subtle.digest("SHA-256", key)).subarray(0, 8));
    expect(keyId).toBe(vector.key_id);
    const text = new TextEncoder();
    let ours = createMacaroon(key, text.encode(vector.identifier), text.encode(vector.location));
    expect(hexOf(ours.signature)).toBe(vector.signature0_hex);
    for (const caveat of vector.caveats) ours = addFirstPartyCaveat(ours, text.encode(caveat));
    expect(hexOf(encodeMacaroon(ours))).toBe(vector.binary_hex);
    expect(encodeToken(encodeMacaroon(ours))).toBe(vector.token);
    const theirs = importMacaroon(vector.token);
    expect(hexOf(theirs.signature)).toBe(vector.signature_hex);
    const conditions: string[] = [];
    theirs.verify(key, (c) => (conditions.push(c), null));
    expect(conditions).toEqual(vector.caveats);
    const verified = verifyToken(vector.token, { current: rootKeyOf(key) });
    expect(verified).toMatchObject({ keyId: vector.key_id, id: "0".repeat(32) });
    // the derived key is HMAC-SHA256 keyed with "macaroons-key-generator" over the root key
    const generator = await crypto.subtle.importKey("raw", text.encode("macaroons-key-generator"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    expect(hexOf(new Uint8Array(await crypto.subtle.sign("HMAC", generator, key)))).toBe(vector.derived_key_hex);
  });

  it("refuses truncated, padded and reshuffled encodings as bad_token", async () => {
    const bytes = Uint8Array.from(vector.binary_hex.match(/../g)!, (h) => parseInt(h, 16));
    const keyring = { current: rootKeyOf(Uint8Array.from(vector.root_key_hex.match(/../g)!, (h) => parseInt(h, 16))) };
    for (let cut = 1; cut < bytes.length; cut += 7) {
      expect(() => verifyToken(encodeToken(bytes.subarray(0, cut)), keyring)).toThrow(/not a v2 macaroon/);
    }
    expect(() => verifyToken(encodeToken(Uint8Array.from([...bytes, 0])), keyring)).toThrow(/not a v2 macaroon/);
    const wrongVersion = bytes.slice();
    wrongVersion[0] = 1;
    expect(() => verifyToken(encodeToken(wrongVersion), keyring)).toThrow(/not a v2 macaroon/);
    const hugeLength = Uint8Array.from([2, 2, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(() => verifyToken(encodeToken(hugeLength), keyring)).toThrow(/not a v2 macaroon/);
  });

  it("interoperates with an independent macaroon library (js-macaroon) both ways", async () => {
    // ours, checked by theirs: the HMAC chain and the v2 binary layout agree
    const ours = tokenFor({ ops: ["put", "edge.put"], topic: "news.*", expires: 2_000_000_000, maxBytes: 99 });
    const seen: string[] = [];
    importMacaroon(ours).verify(ROOT_KEY.bytes, (condition) => (seen.push(condition), null));
    expect(seen).toEqual(["op = put,edge.put", "topic = news.*", "expires = 2000000000", "max_bytes = 99"]);
    expect(() => importMacaroon(ours).verify(otherRoot.bytes, () => null)).toThrow();
    // theirs (another language would do the same), minted under our key with the documented identifier
    const theirs = newMacaroon({ identifier: `ron1:${ROOT_KEY.id}:${"ab".repeat(16)}`, location: "elsewhere", rootKey: ROOT_KEY.bytes });
    theirs.addFirstPartyCaveat("op = put");
    const theirToken = encodeToken(theirs.exportBinary());
    expect((await putObject(bearer(theirToken))).status).toBeLessThan(300);
    expect((await call("/audit/verify", { headers: bearer(theirToken) })).status).toBe(403);
  });

  it("a caveat this service doesn't understand, or a third-party caveat, is refused (fail closed)", async () => {
    const identifier = new TextEncoder().encode(`ron1:${ROOT_KEY.id}:${"cd".repeat(16)}`);
    const base = createMacaroon(ROOT_KEY.bytes, identifier);
    const unknown = await putObject(bearer(encodeToken(encodeMacaroon(addFirstPartyCaveat(base, new TextEncoder().encode("ip = 10.0.0.1"))))));
    expect(unknown.status).toBe(403);
    expect(await envelopeOf(unknown)).toMatchObject({ reason: "caveat" });
    const thirdParty = { ...base, caveats: [{ identifier: new TextEncoder().encode("third"), location: new TextEncoder().encode("https://auth.example"), vid: randomBytes(72) }] };
    expect(await envelopeOf(await putObject(bearer(encodeToken(encodeMacaroon(thirdParty)))))).toMatchObject({ reason: "bad_token" });
  });

  it("rotation: tokens under CAP_ROOT_KEY_PREVIOUS keep working until it is removed", async () => {
    const oldToken = mintToken(otherRoot, { ops: ["put"] });
    const rotated = { CAP_ROOT_KEY: hexOf(ROOT_KEY.bytes), CAP_ROOT_KEY_PREVIOUS: hexOf(otherRoot.bytes) };
    expect((await putObject(bearer(oldToken), "rotation", rotated)).status).toBeLessThan(300);
    expect((await putObject(bearer(TOKEN), "rotation", rotated)).status).toBeLessThan(300);
    expect((await putObject(bearer(oldToken), "rotation", { CAP_ROOT_KEY: hexOf(ROOT_KEY.bytes) })).status).toBe(401);
    // the new key as current, the test key as previous: the old test token still works
    const next = rootKeyOf(randomBytes(32));
    expect((await putObject(bearer(TOKEN), "rotation", { CAP_ROOT_KEY: hexOf(next.bytes), CAP_ROOT_KEY_PREVIOUS: base64(ROOT_KEY.bytes) })).status).toBeLessThan(300);
  });

  it("prefix: edge.put only under the prefix; a prefix caveat fails closed on routes without a path", async () => {
    const docs = tokenFor({ ops: ["edge.put", "put"], prefix: "docs/" });
    expect((await call(`/edge/assets/docs/${crypto.randomUUID()}.txt`, { method: "PUT", body: "d", headers: bearer(docs) })).status).toBe(201);
    const outside = await call(`/edge/assets/site/${crypto.randomUUID()}.txt`, { method: "PUT", body: "d", headers: bearer(docs) });
    expect(outside.status).toBe(403);
    expect((await envelopeOf(outside)).message).toContain("docs/");
    expect((await call(`/edge/assets/docsX/a.txt`, { method: "PUT", body: "d", headers: bearer(docs) })).status).toBe(403);
    expect((await putObject(bearer(docs))).status).toBe(403);
  });

  it("topic: exact and trailing-* patterns for send, recv, dlq, ack and nack", async () => {
    const base = topic();
    const token = tokenFor({ ops: ["mailbox.send", "mailbox.recv", "mailbox.ack"], topic: `${base}.*` });
    const sent = await postJson("/mailbox/send", { topic: `${base}.a`, idem_key: "1", payload_b64: "eA==" }, bearer(token));
    expect(sent.status).toBe(200);
    const { msg_id } = await sent.json<{ msg_id: string }>();
    expect((await postJson("/mailbox/send", { topic: `${base}x`, idem_key: "1", payload_b64: "eA==" }, bearer(token))).status).toBe(403);
    expect((await postJson("/mailbox/recv", { topic: "other" }, bearer(token))).status).toBe(403);
    expect((await postJson("/mailbox/dlq", { topic: "other" }, bearer(token))).status).toBe(403);
    expect((await call(`/mailbox/ack/other:${crypto.randomUUID()}`, { method: "POST", headers: bearer(token) })).status).toBe(403);
    expect((await call(`/mailbox/nack/other:${crypto.randomUUID()}`, { method: "POST", headers: bearer(token) })).status).toBe(403);
    const got = await postJson("/mailbox/recv", { topic: `${base}.a` }, bearer(token));
    expect((await got.json<{ messages: { msg_id: string }[] }>()).messages.map((m) => m.msg_id)).toEqual([msg_id]);
    expect((await call(`/mailbox/ack/${msg_id}`, { method: "POST", headers: bearer(token) })).status).toBe(200);
    const exact = tokenFor({ ops: ["mailbox.recv"], topic: base });
    expect((await postJson("/mailbox/recv", { topic: base }, bearer(exact))).status).toBe(200);
    expect((await postJson("/mailbox/recv", { topic: `${base}.a` }, bearer(exact))).status).toBe(403);
  });

  it("max_bytes: a declared body over the cap, or a body of unknown length, is 403", async () => {
    const small = tokenFor({ ops: ["put"], maxBytes: 16 });
    expect((await putObject(bearer(small), "sixteen bytes..!")).status).toBeLessThan(300);
    expect((await putObject(bearer(small), "seventeen bytes!!")).status).toBe(403);
    const streamed = new Blob(["x"]).stream();
    expect((await putObject(bearer(small), streamed)).status).toBe(403);
  });

  it("public reads, probes and webhooks need no token", async () => {
    const put = await putObject(bearer(TOKEN), "public bytes");
    const { address } = await put.json<{ address: string }>();
    await call("/edge/assets/pub/readme.txt", { method: "PUT", body: "public asset" });
    for (const path of [`/o/${address}`, `/cas/blake3/${address.slice(3)}`, "/edge/assets/pub/readme.txt", "/healthz", "/readyz", "/version"]) {
      const response = await call(path, { headers: ANONYMOUS });
      expect(response.status, path).toBe(200);
      await response.arrayBuffer();
    }
    // webhooks are authenticated by the provider's signature, not a token
    expect((await call("/webhooks/github", { method: "POST", body: "{}", headers: ANONYMOUS }, { GITHUB_WEBHOOK_SECRET: "devsecret123" })).status).toBe(401);
  });

  it("METRICS_PUBLIC=true serves /metrics without a token", async () => {
    expect((await call("/metrics", { headers: ANONYMOUS })).status).toBe(401);
    expect((await call("/metrics", { headers: ANONYMOUS }, { METRICS_PUBLIC: "true" })).status).toBe(200);
  });

  it("counts every refusal in auth_denied_total{reason}", async () => {
    const before = await metricValue("auth_denied_total", { reason: "missing_token" });
    const beforeCaveat = await metricValue("auth_denied_total", { reason: "caveat" });
    await putObject({ ...ANONYMOUS });
    await putObject({ ...ANONYMOUS });
    await putObject(bearer(tokenFor({ ops: ["metrics"] })));
    expect(await metricValue("auth_denied_total", { reason: "missing_token" })).toBe(before + 2);
    expect(await metricValue("auth_denied_total", { reason: "caveat" })).toBe(beforeCaveat + 1);
  });
});

describe("default deny: no CAP_ROOT_KEY", () => {
  const unset = { CAP_ROOT_KEY: "" };
  it("refuses every write with 503 NOT_CONFIGURED, still serves public reads, /readyz names auth", async () => {
    const put = await putObject(bearer(TOKEN), "stored before", {});
    const { address } = await put.json<{ address: string }>();
    const refused = await putObject(bearer(TOKEN), "x", unset);
    expect(refused.status).toBe(503);
    expect(await envelopeOf(refused)).toMatchObject({ code: "NOT_CONFIGURED", reason: "not_configured", retryable: false });
    expect((await call("/edge/assets/x.txt", { method: "PUT", body: "x" }, unset)).status).toBe(503);
    expect((await postJson("/mailbox/recv", { topic: "t" }, {}, unset)).status).toBe(503);
    expect((await call("/audit/verify", {}, unset)).status).toBe(503);
    expect((await call("/metrics", {}, unset)).status).toBe(503);
    expect((await call(`/o/${address}`, { headers: ANONYMOUS }, unset)).status).toBe(200);
    const ready = await call("/readyz", {}, unset);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, degraded: true, missing: ["auth"] });
  });

  it("refuses a root key that is too short or not hex/base64, naming the knob without showing it", async () => {
    for (const bad of ["abcd", "not a key at all, not even base64!", "c2hvcnQ="]) {
      const ready = await call("/readyz", {}, { CAP_ROOT_KEY: bad });
      const body = await ready.json<{ missing: string[]; detail: Record<string, string> }>();
      expect(body.missing).toContain("config");
      expect(body.detail.config).toContain("CAP_ROOT_KEY");
      expect(body.detail.config).not.toContain(bad);
    }
    expect(decodeRootKey(base64(randomBytes(32)))).toBeInstanceOf(Uint8Array);
  });
});
