/**
 * The API document is the contract: each worker serves at GET /openapi.json exactly what the
 * generator builds from the route descriptions and zod schemas today, it lists exactly the routes
 * the worker's itty routers registered, and real answers — status, error code and reason, JSON
 * body — are the ones it documents.
 */
import { describe, expect, it } from "vitest";
import { TileType, Compression } from "pmtiles";
import committed from "../docs/openapi.json";
import { writePmtiles } from "../load/driver/pmtiles-writer.mjs";
import { blake3 } from "../shared/blake3";
import { errorEnvelopeSchema } from "../shared/openapi/common";
import { openApiPath, operationErrors } from "../shared/openapi/build";
import type { NamedSchema, OperationSpec } from "../shared/openapi/spec";
import * as z from "../shared/zod";
import { apiDocument, WORKER_OPERATIONS, type WorkerName } from "../workers/api-documents";
import edge from "../workers/edge/index";
import interop from "../workers/interop/index";
import micronode from "../workers/micronode/index";
import overlay from "../workers/overlay/index";
import { ANONYMOUS, base64, call, callWorker, tokenFor } from "./helpers";

type Json = Record<string, any>;
type Routes = readonly { method: string; template: string }[];
/** micronode exports a handler object; the macronode's services export WorkerEntrypoint classes. */
type Worker = Parameters<typeof callWorker>[0] & ({ fetch: { routes: Routes } } | { routes: Routes });
const routesOf = (worker: Worker): Routes => ("routes" in worker ? worker.routes : worker.fetch.routes);
const WORKERS: Record<WorkerName, Worker> = { micronode, interop, edge, overlay };

const served = async (worker: WorkerName) => (await callWorker(WORKERS[worker], "/openapi.json")).json<Json>();

/** Every (method, path) a document describes. */
const documented = (doc: Json) => Object.entries(doc.paths as Json).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`)).sort();

describe("GET /openapi.json", () => {
  it("is public, cacheable and answers 304 to its ETag", async () => {
    const response = await call("/openapi.json", { headers: ANONYMOUS });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const etag = response.headers.get("etag")!;
    expect(etag).toMatch(/^"b3:[0-9a-f]{64}"$/);
    expect((await response.json<Json>()).openapi).toBe("3.1.0");
    const again = await call("/openapi.json", { headers: { ...ANONYMOUS, "If-None-Match": etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get("etag")).toBe(etag);
    const page = await call("/docs", { headers: ANONYMOUS });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await page.text()).toContain('fetch("openapi.json")');
  });

  it("micronode serves docs/openapi.json", async () => {
    expect(await served("micronode")).toEqual(committed);
  });

  it.each(Object.keys(WORKERS) as WorkerName[])("%s serves what the generator builds from today's routes and schemas (npm run openapi is not stale)", async (worker) => {
    expect(await served(worker)).toEqual(apiDocument(worker));
  });

  it.each(Object.keys(WORKERS) as WorkerName[])("%s documents exactly the routes its routers registered", async (worker) => {
    const registered = routesOf(WORKERS[worker]).map((r) => `${r.method} ${openApiPath(r.template)}`).sort();
    expect(registered.length).toBeGreaterThan(5);
    expect(new Set(registered).size).toBe(registered.length);
    const doc = await served(worker);
    // a router route missing from the document, or a documented route no router serves, fails here
    expect(documented(doc)).toEqual(registered);
  });

  it("every documented operation's sample request reaches its route (never the router's 404 or 405)", async () => {
    for (const op of WORKER_OPERATIONS.micronode) {
      const response = await call(op.samplePath, { method: op.method, headers: { "Content-Type": "application/json" }, body: op.method === "POST" || op.method === "PUT" ? "{}" : undefined });
      const where = `${op.method} ${op.samplePath} → ${response.status}`;
      expect(response.status, where).not.toBe(405);
      if (response.status === 404 && op.method !== "HEAD") expect((await response.clone().json<Json>()).message, where).not.toMatch(/^no route for/);
      await response.body?.cancel();
    }
  });
});

describe("answers match the document", () => {
  const doc: Json = apiDocument("micronode");
  const resolve = (value: Json): Json => (value?.$ref ? (value.$ref as string).split("/").slice(1).reduce((o: Json, k: string) => o[k], doc) : value);
  const operation = (id: string): [OperationSpec, Json] => {
    const spec = WORKER_OPERATIONS.micronode.find((o) => o.operationId === id)!;
    expect(spec, id).toBeDefined();
    return [spec, doc.paths[openApiPath(spec.template)][spec.method.toLowerCase()]];
  };

  /** The answer's status is documented for the operation; a refusal's code and reason are among its examples; a JSON body parses with its schema. */
  async function conforms(id: string, response: Response): Promise<void> {
    const [spec, described] = operation(id);
    const status = String(response.status);
    const where = `${id} answered ${status}`;
    expect(Object.keys(described.responses), where).toContain(status);
    expect(response.headers.get("x-corr-id"), where).toBeTruthy();
    const success = spec.responses.find((r) => String(r.status) === status);
    for (const name of success?.headers ?? []) {
      // headers the document promises on this answer, the optional ones aside
      if (["ETag", "Location", "Content-Range", "Cache-Control"].includes(name)) expect(response.headers.has(name), `${where}: ${name}`).toBe(true);
    }
    if (success) {
      const described = success.body?.content["application/json"]?.schema;
      const schema = described && "name" in described ? (described as NamedSchema).schema : described && "_zod" in described ? described : undefined;
      if (schema && spec.method !== "HEAD") {
        const parsed = (schema as z.ZodMiniType).safeParse(await response.json());
        expect(parsed.success, `${where}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
      } else await response.body?.cancel();
      return;
    }
    if (spec.method === "HEAD") return;
    const envelope = await response.json<Json>();
    expect(errorEnvelopeSchema.safeParse(envelope).success, `${where}: ${JSON.stringify(envelope)}`).toBe(true);
    const examples = Object.values(resolve(described.responses[status]).content["application/json"].examples as Json).map((e) => resolve(e).value);
    const key = (e: { code: string; reason?: string; retryable: boolean }) => `${e.code}/${e.reason ?? "-"}/${e.retryable}`;
    expect(examples.map(key), `${where}: ${JSON.stringify(envelope)}`).toContain(key(envelope as never));
    // the headers this refusal is documented with (Retry-After, X-Reason, WWW-Authenticate, …) are on the answer
    const documentedAs = operationErrors(spec).find((e) => e.status === response.status && e.code === envelope.code && e.reason === envelope.reason)!;
    for (const name of documentedAs.headers ?? []) expect(response.headers.has(name), `${where}: ${name}`).toBe(true);
  }

  const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({ method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json", ...headers } });

  it("ops routes", async () => {
    await conforms("healthz", await call("/healthz", { headers: ANONYMOUS }));
    await conforms("healthzHead", await call("/healthz", { method: "HEAD", headers: ANONYMOUS }));
    await conforms("readyz", await call("/readyz", { headers: ANONYMOUS }));
    await conforms("readyz", await call("/readyz", { headers: ANONYMOUS }, { CAP_ROOT_KEY: "" }));
    await conforms("version", await call("/version", { headers: ANONYMOUS }));
    await conforms("metrics", await call("/metrics"));
    await conforms("metrics", await call("/metrics", { headers: ANONYMOUS }));
    await conforms("metrics", await call("/metrics", { headers: ANONYMOUS }, { METRICS_PUBLIC: "true" }));
    await conforms("metrics", await call("/metrics", { headers: { authorization: `Bearer ${tokenFor({ ops: ["put"] })}` } }));
    await conforms("healthz", await call("/healthz", { headers: { ...ANONYMOUS, "X-Pad": "x".repeat(2048) } }, { MAX_HEADER_BYTES: "1024" }));
  });

  it("objects: POST /put, GET and HEAD /o/:addr", async () => {
    const bytes = new TextEncoder().encode(`openapi conformance ${crypto.randomUUID()}`);
    const created = await call("/put", { method: "POST", body: bytes });
    const { address } = await created.clone().json<Json>();
    await conforms("putObject", created);
    await conforms("putObject", await call("/put", { method: "POST", body: bytes }));
    await conforms("putObject", await call("/put", json({ payload: base64(bytes), meta: { type: "text/plain" } })));
    await conforms("putObject", await call("/put", json({ payload: base64(bytes), extra: 1 })));
    await conforms("putObject", await call("/put", { method: "POST", body: "{", headers: { "Content-Type": "application/json" } }));
    await conforms("putObject", await call("/put", { method: "POST", body: "x", headers: { "Content-Type": "text/plain" } }));
    await conforms("putObject", await call("/put", { method: "POST", body: "x", headers: { "Content-Encoding": "br" } }));
    await conforms("putObject", await call("/put", { method: "POST", body: "x", headers: ANONYMOUS }));
    await conforms("putObject", await call("/put", { method: "POST", body: "x", headers: { authorization: "Bearer nonsense" } }));
    await conforms("putObject", await call("/put", { method: "POST", body: "x", headers: { authorization: `Bearer ${tokenFor({ ops: ["mailbox.send"] })}` } }));
    await conforms("putObject", await call("/put", { method: "POST", body: "x" }, { CAP_ROOT_KEY: "" }));
    await conforms("putObject", await call("/put", { method: "POST", body: "xxxxxxxxxx" }, { MAX_BODY_BYTES: "4" }));

    await conforms("getObject", await call(`/o/${address}`, { headers: ANONYMOUS }));
    await conforms("getObject", await call(`/o/${address}`, { headers: { ...ANONYMOUS, Range: "bytes=0-3" } }));
    await conforms("getObject", await call(`/o/${address}`, { headers: { ...ANONYMOUS, Range: "bytes=9999-" } }));
    await conforms("getObject", await call(`/o/${address}`, { headers: { ...ANONYMOUS, "If-None-Match": `"${address}"` } }));
    await conforms("getObject", await call(`/o/${address}`, { headers: { ...ANONYMOUS, "If-Match": '"b3:other"' } }));
    await conforms("getObject", await call(`/o/b3:${"0".repeat(64)}`, { headers: ANONYMOUS }));
    await conforms("getObject", await call("/o/b3:NOTHEX", { headers: ANONYMOUS }));
    await conforms("getObject", await call(`/o/${address}?proof=yes`, { headers: ANONYMOUS }));
    await conforms("getObject", await call(`/o/${address}?proof=1`, { headers: { ...ANONYMOUS, Range: "bytes=0-1,9-10" } }));
    await conforms("headObject", await call(`/o/${address}`, { method: "HEAD", headers: ANONYMOUS }));
    await conforms("headObject", await call(`/o/b3:${"0".repeat(64)}`, { method: "HEAD", headers: ANONYMOUS }));
  });

  it("multipart uploads", async () => {
    const bytes = new TextEncoder().encode(`multipart ${crypto.randomUUID()}`);
    const address = `b3:${blake3().hashHex(bytes)}`;
    const open = () => call("/uploads", json({ address, size: bytes.length }));
    const first = await open();
    const { upload_id } = (await first.clone().json()) as { upload_id: string };
    await conforms("createUpload", first);
    await conforms("createUpload", await call("/uploads", json({ address, size: 0 })));
    await conforms("createUpload", await call("/uploads", json({ address, size: 100 }), { MAX_OBJECT_BYTES: "10" }));
    await conforms("completeUpload", await call(`/uploads/${upload_id}/complete`, { method: "POST" }));
    await conforms("putUploadPart", await call(`/uploads/${upload_id}/1`, { method: "PUT", body: new Uint8Array(1), headers: { "Content-Length": "1" } }));
    await conforms("putUploadPart", await call(`/uploads/${upload_id}/2`, { method: "PUT", body: bytes, headers: { "Content-Length": String(bytes.length) } }));
    await conforms("putUploadPart", await call(`/uploads/${upload_id}/1`, { method: "PUT", body: bytes, headers: { "Content-Length": String(bytes.length) } }));
    await conforms("completeUpload", await call(`/uploads/${upload_id}/complete`, { method: "POST" }));
    await conforms("completeUpload", await call(`/uploads/${upload_id}/complete`, { method: "POST" }));
    const second = (await (await open()).json()) as { upload_id: string };
    await conforms("putUploadPart", await call(`/uploads/${second.upload_id}/1`, { method: "PUT", body: new Uint8Array(bytes.length), headers: { "Content-Length": String(bytes.length) } }));
    await conforms("completeUpload", await call(`/uploads/${second.upload_id}/complete`, { method: "POST" }));
    const third = (await (await open()).json()) as { upload_id: string };
    await conforms("abortUpload", await call(`/uploads/${third.upload_id}`, { method: "DELETE" }));
    await conforms("abortUpload", await call(`/uploads/${third.upload_id}`, { method: "DELETE" }));
  });

  it("webhooks", async () => {
    const secret = { GITHUB_WEBHOOK_SECRET: "openapi-test-secret" };
    const body = JSON.stringify({ zen: crypto.randomUUID() });
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret.GITHUB_WEBHOOK_SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body)));
    const signature = `sha256=${[...mac].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
    const signed = { ...ANONYMOUS, "X-Hub-Signature-256": signature, "X-GitHub-Delivery": crypto.randomUUID() };
    await conforms("receiveWebhook", await call("/webhooks/github", { method: "POST", body, headers: signed }, secret));
    await conforms("receiveWebhook", await call("/webhooks/github", { method: "POST", body, headers: { ...ANONYMOUS, "X-Hub-Signature-256": "sha256=00" } }, secret));
    await conforms("receiveWebhook", await call("/webhooks/github", { method: "POST", body, headers: ANONYMOUS }, secret));
    await conforms("receiveWebhook", await call("/webhooks/github", { method: "POST", body, headers: ANONYMOUS }));
    await conforms("receiveWebhook", await call("/webhooks/nope", { method: "POST", body, headers: ANONYMOUS }));
  });

  it("mailbox", async () => {
    const topic = `openapi-${crypto.randomUUID().slice(0, 8)}`;
    await conforms("mailboxSend", await call("/mailbox/send", json({ topic, idem_key: "k1", payload_b64: base64(new TextEncoder().encode("hi")) })));
    await conforms("mailboxSend", await call("/mailbox/send", json({ topic, idem_key: "k1", payload_b64: "!!" })));
    await conforms("mailboxSend", await call("/mailbox/send", json({ topic: "Bad Topic", idem_key: "k", payload_b64: "" })));
    await conforms("mailboxSend", await call("/mailbox/send", { method: "POST", body: "x", headers: { "Content-Type": "text/plain" } }));
    await conforms("mailboxSend", await call("/mailbox/send", json({ topic, idem_key: "k2", payload_b64: "" }, { authorization: `Bearer ${tokenFor({ ops: ["mailbox.send"], topic: "other" })}` })));
    const received = await call("/mailbox/recv", json({ topic, visibility_ms: 60000 }));
    const [message] = (await received.clone().json<Json>()).messages;
    await conforms("mailboxRecv", received);
    expect(message.topic).toBe(topic);
    await conforms("mailboxNack", await call(`/mailbox/nack/${message.msg_id}`, json({ reason: "later" })));
    await conforms("mailboxAck", await call(`/mailbox/ack/${topic}:00000000-0000-0000-0000-000000000000`, { method: "POST" }));
    await conforms("mailboxNack", await call(`/mailbox/nack/${topic}:00000000-0000-0000-0000-000000000000`, { method: "POST" }));
    await conforms("mailboxDeadLetters", await call("/mailbox/dlq", json({ topic })));
    await conforms("mailboxRecv", await call("/mailbox/recv", { method: "POST" }));
  });

  it("audit", async () => {
    await conforms("auditVerify", await call("/audit/verify"));
    await conforms("auditTail", await call("/audit/tail?limit=3"));
    await conforms("auditTail", await call("/audit/tail?limit=0"));
    await conforms("auditTail", await call("/audit/tail", { headers: ANONYMOUS }));
  });

  it("edge assets, CAS and tiles", async () => {
    const path = `/edge/assets/openapi/${crypto.randomUUID()}.txt`;
    const created = await call(path, { method: "PUT", body: "edge bytes", headers: { "Content-Type": "text/plain" } });
    const { address } = await created.clone().json<Json>();
    await conforms("putAsset", created);
    await conforms("putAsset", await call(path, { method: "PUT", body: "edge bytes", headers: { "Content-Type": "text/plain" } }));
    await conforms("putAsset", await call(path, { method: "PUT", body: "x", headers: { "Content-Type": "not a type" } }));
    await conforms("putAsset", await call(path, { method: "PUT", body: "x", headers: { authorization: `Bearer ${tokenFor({ ops: ["edge.put"], prefix: "elsewhere/" })}` } }));
    await conforms("getAsset", await call(path, { headers: ANONYMOUS }));
    await conforms("getAsset", await call(path, { headers: { ...ANONYMOUS, Range: "bytes=0-1" } }));
    await conforms("getAsset", await call(`${path}?b3=${"0".repeat(64)}`, { headers: ANONYMOUS }));
    await conforms("getAsset", await call(`${path}?b3=zz`, { headers: ANONYMOUS }));
    await conforms("getAsset", await call("/edge/assets/openapi/missing.txt", { headers: ANONYMOUS }));
    await conforms("getAsset", await call("/edge/assets/a/%2e%2e/b", { headers: ANONYMOUS }));
    await conforms("headAsset", await call(path, { method: "HEAD", headers: ANONYMOUS }));
    const hex = (address as string).slice(3);
    await conforms("getCas", await call(`/cas/blake3/${hex}`, { headers: ANONYMOUS }));
    await conforms("getCas", await call("/cas/blake3/XYZ", { headers: ANONYMOUS }));
    await conforms("getCas", await call(`/cas/blake3/${"0".repeat(64)}`, { headers: ANONYMOUS }));
    await conforms("headCas", await call(`/cas/blake3/${hex}`, { method: "HEAD", headers: ANONYMOUS }));

    const tile = new TextEncoder().encode("a vector tile");
    const pack = writePmtiles([{ z: 0, x: 0, y: 0, data: tile }], { tileType: TileType.Mvt, tileCompression: Compression.None, metadata: { name: "world", vector_layers: [] } });
    expect((await call("/edge/assets/maps/openapi-world.pmtiles", { method: "PUT", body: pack })).status).toBe(201);
    const packs = { EDGE_PACKS: "world=maps/openapi-world.pmtiles" };
    await conforms("getTile", await call("/edge/tiles/world/0/0/0.mvt", { headers: ANONYMOUS }, packs));
    await conforms("headTile", await call("/edge/tiles/world/0/0/0.mvt", { method: "HEAD", headers: ANONYMOUS }, packs));
    await conforms("getTile", await call("/edge/tiles/world/0/0/0.png", { headers: ANONYMOUS }, packs));
    await conforms("getTile", await call("/edge/tiles/world/9/0/0.mvt", { headers: ANONYMOUS }, packs));
    await conforms("getTile", await call("/edge/tiles/nowhere/0/0/0.mvt", { headers: ANONYMOUS }, packs));
    await conforms("getTileJson", await call("/edge/tiles/world.json", { headers: ANONYMOUS }, packs));
    await conforms("getTileJson", await call("/edge/tiles/nowhere.json", { headers: ANONYMOUS }, packs));
  });

  it("admission refusals, as every route documents them", async () => {
    const limited = { RATE_LIMIT_RPS: "1", RATE_LIMIT_BURST: "1", RATE_LIMIT_KEY: "header:x-openapi-client" };
    const headers = { ...ANONYMOUS, "x-openapi-client": crypto.randomUUID() };
    let refused: Response | undefined;
    for (let i = 0; i < 5 && !refused; i++) {
      const response = await call("/openapi.json", { headers }, limited);
      if (response.status === 429) refused = response;
      else await conforms("openApiDocument", response);
    }
    expect(refused?.status).toBe(429);
    await conforms("openApiDocument", refused!);
    const notReady = await call(`/o/b3:${"0".repeat(64)}`, { headers: ANONYMOUS }, { MAX_INFLIGHT: "0" }); // an invalid knob
    expect(notReady.status).toBe(503);
    await conforms("getObject", notReady);
    const badLength = await call("/put", { method: "POST", body: "x", headers: { "Content-Length": "ten" } });
    expect(badLength.status).toBe(400);
    await conforms("putObject", badLength);
  });

  it("overlay and the document's own routes", async () => {
    await conforms("openOverlaySession", await call("/overlay", { headers: ANONYMOUS }));
    await conforms("openOverlaySession", await call("/overlay", { headers: { ...ANONYMOUS, Upgrade: "websocket" } }, { CAP_ROOT_KEY: "" }));
    await conforms("openApiDocument", await call("/openapi.json", { headers: ANONYMOUS }));
    await conforms("openApiDocumentHead", await call("/openapi.json", { method: "HEAD", headers: ANONYMOUS }));
    await conforms("apiPage", await call("/docs", { headers: ANONYMOUS }));
  });
});
