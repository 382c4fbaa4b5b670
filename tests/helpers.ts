/** Helpers for tests that drive the micronode worker inside workerd. */
import { createExecutionContext, env, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { expect } from "vitest";
import { blake3 as nobleBlake3 } from "@noble/hashes/blake3.js";
import worker from "../workers/micronode/index";
import { toHex } from "../shared/blake3";
import type { ErrorEnvelope } from "../shared/errors";
import type { AmnesiaStore } from "../durable-objects/amnesia-store";
import { parseKnobs, type ConfigEnv } from "../shared/config";
import { shardOfAddress, shardOfPointer } from "../shared/store/amnesia-shards";
import { r2Key, r2OutboardKey } from "../shared/store/r2-object-store";
import { decodeRootKey, mintToken, rootKeyOf, type CaveatSpec } from "../shared/capability";

export const BASE = "http://node";

/** The test runs' root key (vitest.config.ts binds it as CAP_ROOT_KEY). */
export const ROOT_KEY = rootKeyOf(decodeRootKey((env as { CAP_ROOT_KEY: string }).CAP_ROOT_KEY) as Uint8Array);
/** A token for tests: every op unless caveats narrow it. */
export const tokenFor = (spec: CaveatSpec = {}) => mintToken(ROOT_KEY, spec);
/** Every op, no expiry: what `call` sends unless a test sets its own Authorization header. */
export const TOKEN = tokenFor();
/** Headers that send no token at all (an anonymous client). */
export const ANONYMOUS = { authorization: "" } as const;

/**
 * Send a request into the micronode worker with knob overrides on top of wrangler.toml's vars
 * (e.g. `{ AMNESIA: "false" }`). The worker runs in this workerd isolate with the real bindings.
 */
export async function call(path: string, init: RequestInit = {}, overrides: Record<string, string> = {}): Promise<Response> {
  return callWorker(worker, path, init, overrides);
}

/** A worker's default export: a handler object (micronode) or a WorkerEntrypoint class (the macronode's services). */
type WorkerEntry = { fetch: Function } | (new (ctx: ExecutionContext, env: any) => { fetch(request: Request): Promise<Response> });

/** `call`, into another worker entry (the standalone interop, overlay or edge worker). */
export async function callWorker(target: WorkerEntry, path: string, init: RequestInit = {}, overrides: Record<string, string> = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  // Authorization: "" (ANONYMOUS) means no token; absent means the all-ops test token
  if (!headers.has("authorization")) headers.set("authorization", `Bearer ${TOKEN}`);
  else if (headers.get("authorization") === "") headers.delete("authorization");
  const request = new Request(new URL(path, BASE), { ...init, headers });
  const ctx = createExecutionContext();
  const workerEnv = { ...env, ...overrides };
  const response: Response = typeof target === "function" ? await new target(ctx, workerEnv).fetch(request) : await target.fetch(request, workerEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

export const R2 = { AMNESIA: "false" } as const;

/** The address an independent BLAKE3 implementation (@noble/hashes) gives these bytes. */
export const addressOf = (bytes: Uint8Array) => `b3:${toHex(nobleBlake3(bytes))}`;

export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let at = 0; at < length; at += 65536) crypto.getRandomValues(out.subarray(at, Math.min(length, at + 65536)));
  return out;
}

/** Text-like bytes that compress about 3–5× (so they stay under the 10× ratio cap). */
export function compressibleBytes(length: number): Uint8Array {
  const words = ["edge", "node", "onion", "frame", "gossip", "tile", "object", "b3", "mailbox", "audit"];
  const out = new Uint8Array(length);
  let at = 0;
  while (at < length) {
    const word = new TextEncoder().encode(words[Math.floor(Math.random() * words.length)]! + String(Math.floor(Math.random() * 1000)) + " ");
    out.set(word.subarray(0, length - at), at);
    at += word.length;
  }
  return out;
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export const gzip = (bytes: Uint8Array) => collect(new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip")));

export const bytesOf = async (response: Response) => new Uint8Array(await response.arrayBuffer());

export { encodeBase64 as base64 } from "../shared/base64";

export const putRaw = (bytes: Uint8Array, headers: Record<string, string> = {}, overrides: Record<string, string> = {}) =>
  call("/put", { method: "POST", body: bytes, headers: { "Content-Type": "application/octet-stream", ...headers } }, overrides);

export const putJson = (body: unknown, overrides: Record<string, string> = {}) =>
  call("/put", { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } }, overrides);

/** A body that arrives in pieces with no Content-Length (chunked transfer). */
export function trickle(chunks: Uint8Array[], delayMs = 0): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    async pull(controller) {
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      if (i < chunks.length) controller.enqueue(chunks[i++]!);
      else controller.close();
    },
  });
}

export type Envelope = ErrorEnvelope;

export async function envelopeOf(response: Response): Promise<Envelope> {
  expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
  const body = (await response.json()) as Envelope;
  expect(body.corr_id).toBe(response.headers.get("x-corr-id"));
  return body;
}

/** AMNESIA_SHARDS as the test runs configure it (unset: the default). */
export const TEST_AMNESIA_SHARDS = parseKnobs(env as ConfigEnv, ["AMNESIA_SHARDS"]).AMNESIA_SHARDS!;

/** The AmnesiaStore shard `amnesia-<index>` (untyped, for runInDurableObject). */
export function amnesiaShardStub(index: number): DurableObjectStub<AmnesiaStore> {
  const namespace = env.AMNESIA_STORE;
  return namespace.get(namespace.idFromName(`amnesia-${index}`));
}

/** The shard holding the object at `hex` when the worker runs with `shards` shards. */
export const amnesiaStub = (hex: string, shards = TEST_AMNESIA_SHARDS): DurableObjectStub<AmnesiaStore> => amnesiaShardStub(shardOfAddress(hex, shards));

/** The shard holding the pointer `name` when the worker runs with `shards` shards. */
export const amnesiaPointerStub = (name: string, shards = TEST_AMNESIA_SHARDS): DurableObjectStub<AmnesiaStore> => amnesiaShardStub(shardOfPointer(name, shards));

/** What one shard holds (its own count, from the object itself). */
export const amnesiaShardStats = (index: number) => amnesiaShardStub(index).stats();

/** Bytes held by the shards of a worker run with `shards` shards, summed. */
export async function amnesiaUsedBytes(shards = TEST_AMNESIA_SHARDS): Promise<number> {
  const stats = await Promise.all(Array.from({ length: shards }, (_, index) => amnesiaShardStats(index)));
  return stats.reduce((sum, { usedBytes }) => sum + usedBytes, 0);
}

/** Every series carries `isolate="<id>"` (tests/observability.test.ts checks it); tests match series by their own labels. */
export const withoutIsolate = (text: string) => text.replace(/\{isolate="[0-9a-f]+"\}|,isolate="[0-9a-f]+"|isolate="[0-9a-f]+",/g, "");

/** `/metrics` as text, without the isolate label. */
export async function metricsText(init: RequestInit = {}, overrides: Record<string, string> = {}): Promise<string> {
  return withoutIsolate(await (await call("/metrics", init, overrides)).text());
}

/** Flip one bit of a stored object's bytes (or its outboard) underneath the service: in R2, or in the amnesia shard holding it. */
export async function flipStoredByte(mode: "amnesia" | "r2", hex: string, at: number, what: "bytes" | "outboard" = "bytes"): Promise<void> {
  if (mode === "r2") {
    const key = what === "bytes" ? r2Key(hex) : r2OutboardKey(hex);
    const object = await env.OBJECTS.get(key);
    const stored = new Uint8Array(await object!.arrayBuffer());
    stored[at]! ^= 0x01;
    await env.OBJECTS.put(key, stored, { httpMetadata: object!.httpMetadata });
    return;
  }
  await runInDurableObject(amnesiaStub(hex), (instance) => {
    const entry = (instance as unknown as { objects: Map<string, { bytes: Uint8Array; outboard?: Uint8Array }> }).objects.get(hex)!;
    (what === "bytes" ? entry.bytes : entry.outboard!)[at]! ^= 0x01;
  });
}
