/**
 * @module HTTP helpers for the interop service: put bytes (identity, gzip or zstd), get and head
 * objects, and send webhooks signed the way each provider signs them (for tests, load and
 * integrations). Uses the platform's fetch, or the one given.
 */
import { bytesToHex } from "@noble/hashes/utils.js";
import { joinChunks } from "../shared/bytes";
import { attenuateToken, type CaveatSpec } from "../shared/capability";
import type { Blake3Tree } from "../shared/blake3/tree-engine";
import { uploadInParts, type MultipartOptions, type MultipartResult, type Send } from "./multipart";
import { SLICE_MEDIA_TYPE, SliceError, verifySlice, type VerifiedSliceBytes } from "./proof";

export interface PutResult {
  address: string;
  size: number;
  corr_id: string;
  /** True when the object was new (201), false when it was already stored (200). */
  created: boolean;
}

export type WebhookProviderName = "github" | "stripe" | "slack";

/** A non-2xx answer, with the error envelope's fields. */
export class InteropError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly reason: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = "InteropError";
  }
}

export interface InteropClientOptions {
  fetch?: typeof fetch;
  /** Capability token sent with writes (`Authorization: Bearer`); reads of content need none. */
  token?: string;
  /** BLAKE3 for `getVerified` (default: plain TypeScript; see `verifySlice`). */
  tree?: Blake3Tree;
}

export class InteropClient {
  readonly #base: string;
  readonly #fetch: typeof fetch;
  readonly #token?: string;
  readonly #tree?: Blake3Tree;

  constructor(baseUrl: string, options: InteropClientOptions = {}) {
    this.#base = baseUrl.replace(/\/$/, "");
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#token = options.token;
    this.#tree = options.tree;
  }

  /** The token this client sends, if any. */
  get token(): string | undefined {
    return this.#token;
  }

  /**
   * A client whose token is this one's narrowed by more caveats (no root key needed): hand it to
   * code that should only, say, publish under `docs/` for an hour.
   */
  attenuated(spec: CaveatSpec): InteropClient {
    if (!this.#token) throw new TypeError("this client has no token to attenuate");
    return new InteropClient(this.#base, { fetch: this.#fetch, token: attenuateToken(this.#token, spec), tree: this.#tree });
  }

  #auth(headers: Record<string, string>): Record<string, string> {
    return this.#token ? { ...headers, authorization: `Bearer ${this.#token}` } : headers;
  }

  /** Store bytes; `encoding` says how `body` is already encoded (the address is of the decoded bytes). */
  async put(body: Uint8Array, options: { encoding?: "identity" | "gzip" | "zstd"; contentType?: string } = {}): Promise<PutResult> {
    const headers: Record<string, string> = { "content-type": options.contentType ?? "application/octet-stream" };
    if (options.encoding && options.encoding !== "identity") headers["content-encoding"] = options.encoding;
    const response = await this.#fetch(`${this.#base}/put`, { method: "POST", body, headers: this.#auth({ ...headers, "content-length": String(body.length) }) });
    const json = await checked(response);
    return { ...(json as Omit<PutResult, "created">), created: response.status === 201 };
  }

  /** Publish bytes as the edge asset `path` (token op `edge.put`, path under its `prefix`). */
  async publish(path: string, body: Uint8Array, options: { contentType?: string } = {}): Promise<{ path: string; address: string; size: number; type: string; created: boolean }> {
    const encoded = path.replace(/^\/+/, "").split("/").map(encodeURIComponent).join("/");
    const headers = this.#auth({ "content-type": options.contentType ?? "application/octet-stream", "content-length": String(body.length) });
    const response = await this.#fetch(`${this.#base}/edge/assets/${encoded}`, { method: "PUT", body, headers });
    const json = (await checked(response)) as { path: string; address: string; size: number; type: string };
    return { ...json, created: response.status === 201 };
  }

  /**
   * Store an object of any size (up to the server's MAX_OBJECT_BYTES) with a multipart upload:
   * parts of the server's `part_bytes`, up to `concurrency` (4) at once, each retried on its own.
   */
  uploadMultipart(body: Uint8Array, options: MultipartOptions = {}): Promise<MultipartResult> {
    return uploadInParts(this.#send, body, options);
  }

  /** Point the edge asset `path` at an object already stored (e.g. by `uploadMultipart`); token op `edge.put`. */
  async publishStored(path: string, address: string, options: { contentType?: string } = {}): Promise<{ path: string; address: string; size: number; type: string; created: boolean }> {
    const encoded = path.replace(/^\/+/, "").split("/").map(encodeURIComponent).join("/");
    const { status, json } = await this.#send("PUT", `/edge/assets/${encoded}?b3=${address.replace(/^b3:/, "")}`, undefined, options.contentType ? { "content-type": options.contentType } : {});
    return { ...(json as { path: string; address: string; size: number; type: string }), created: status === 201 };
  }

  /** Publish a large file as an edge asset: a multipart upload, then the path pointed at it. */
  async publishLarge(path: string, body: Uint8Array, options: MultipartOptions = {}): Promise<{ path: string; address: string; size: number; type: string; created: boolean; parts: number }> {
    const stored = await this.uploadMultipart(body, options);
    return { ...(await this.publishStored(path, stored.address, { contentType: options.contentType })), parts: stored.parts };
  }

  readonly #send: Send = async (method, path, body, headers = {}) => {
    const response = await this.#fetch(`${this.#base}${path}`, { method, body, headers: this.#auth(headers) });
    return { status: response.status, json: await checked(response) };
  };

  /** The object's bytes, or null when it does not exist. */
  async get(address: string): Promise<Uint8Array | null> {
    const response = await this.#fetch(`${this.#base}/o/${address}`);
    if (response.status === 404) return null;
    if (!response.ok) await checked(response);
    return new Uint8Array(await response.arrayBuffer());
  }

  /**
   * Bytes `start..end` (exclusive; the whole object by default, `end` past the object clamped to
   * it) fetched with their proof (`?proof=1`) and checked against `address` here, whatever
   * served them: null when the object does not exist, SliceError when the proof fails.
   */
  async getVerified(address: string, range: { start?: number; end?: number } = {}): Promise<VerifiedSliceBytes | null> {
    const start = range.start ?? 0;
    const headers: Record<string, string> = { accept: SLICE_MEDIA_TYPE };
    if (range.end !== undefined && range.end <= start) throw new RangeError(`empty range ${start}-${range.end}`);
    if (range.start !== undefined || range.end !== undefined) headers.range = `bytes=${start}-${range.end === undefined ? "" : range.end - 1}`;
    const response = await this.#fetch(`${this.#base}/o/${address}?proof=1`, { headers });
    if (response.status === 404) return null;
    if (!response.ok) await checked(response);
    const verified = verifySlice(address, new Uint8Array(await response.arrayBuffer()), undefined, { tree: this.#tree });
    // the slice proves its own range; it must also be the one asked for
    const end = Math.min(range.end ?? verified.size, verified.size);
    if (verified.start !== start || verified.end !== end) throw new SliceError("range", `asked for bytes ${start}-${end}, the slice holds ${verified.start}-${verified.end}`);
    return verified;
  }

  async head(address: string): Promise<{ size: number; etag: string } | null> {
    const response = await this.#fetch(`${this.#base}/o/${address}`, { method: "HEAD" });
    if (response.status === 404) return null;
    if (!response.ok) throw new InteropError(response.status, "HTTP_ERROR", undefined, `HEAD ${address}: ${response.status}`);
    return { size: Number(response.headers.get("content-length")), etag: response.headers.get("etag") ?? "" };
  }

  /** Send `body` to `/webhooks/<provider>` signed with `secret` as that provider would. */
  async webhook(provider: WebhookProviderName, body: Uint8Array | string, secret: string, options: { deliveryId?: string; timestamp?: number } = {}): Promise<unknown> {
    const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
    const headers = await signWebhook(provider, bytes, secret, options);
    const response = await this.#fetch(`${this.#base}/webhooks/${provider}`, { method: "POST", body: bytes, headers: { "content-type": "application/json", ...headers } });
    return checked(response);
  }
}

/** The headers that sign `body` for `provider` (DESIGN.md §8 conventions). */
export async function signWebhook(provider: WebhookProviderName, body: Uint8Array, secret: string, options: { deliveryId?: string; timestamp?: number } = {}): Promise<Record<string, string>> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const text = new TextEncoder();
  const sign = async (prefix: string) => {
    const key = await crypto.subtle.importKey("raw", text.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const message = joinChunks([text.encode(prefix), body]);
    return bytesToHex(new Uint8Array(await crypto.subtle.sign("HMAC", key, message)));
  };
  if (provider === "github") {
    return { "x-hub-signature-256": `sha256=${await sign("")}`, "x-github-delivery": options.deliveryId ?? crypto.randomUUID(), "x-github-event": "push" };
  }
  if (provider === "stripe") return { "stripe-signature": `t=${timestamp},v1=${await sign(`${timestamp}.`)}` };
  return { "x-slack-signature": `v0=${await sign(`v0:${timestamp}:`)}`, "x-slack-request-timestamp": String(timestamp) };
}

async function checked(response: Response): Promise<unknown> {
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: reported below with the status
  }
  if (!response.ok) throw new InteropError(response.status, String(json.code ?? "HTTP_ERROR"), json.reason as string | undefined, String(json.message ?? `${response.status}: ${text.slice(0, 200)}`));
  return json;
}
