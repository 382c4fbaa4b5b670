/**
 * @module A multipart upload from the client side (docs/API.md, `/uploads`): open it with the
 * object's address and size, send the parts the server's `part_bytes` cuts (a few at a time,
 * each retried on its own when the network or the server fails), then complete. The object
 * exists only if the parts hash to the address; on any failure the upload is aborted.
 */
import { blake3 } from "@noble/hashes/blake3.js";
import { bytesToHex } from "@noble/hashes/utils.js";

/** One HTTP call: answers the JSON body (and status), throws on a non-2xx (with the status). */
export type Send = (method: string, path: string, body?: Uint8Array, headers?: Record<string, string>) => Promise<{ status: number; json: unknown }>;

export interface MultipartOptions {
  /** The object's address when the caller knows it already (else hashed here: BLAKE3 of `body`). */
  address?: string;
  contentType?: string;
  /** Parts in flight at once (default 4). */
  concurrency?: number;
  /** Attempts per part before giving up (default 3); only network errors, 429 and 5xx are retried. */
  attempts?: number;
  /** Called once the upload is open: how many parts, of how many bytes each. */
  onOpen?: (parts: number, partBytes: number) => void;
  /** Called after each part is stored: parts done, of how many, and bytes sent so far. */
  onPart?: (done: number, total: number, bytes: number) => void;
}

export interface MultipartResult {
  address: string;
  size: number;
  /** True when the object was new (201), false when it was already stored (200). */
  created: boolean;
  parts: number;
  partBytes: number;
}

interface Opened {
  upload_id: string;
  part_bytes: number;
  parts: number;
}

const retryable = (error: unknown) => {
  const status = (error as { status?: unknown }).status;
  return typeof status !== "number" || status === 429 || status >= 500; // no status: the network failed
};

async function withRetries<T>(attempts: number, run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= attempts || !retryable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** (attempt - 1)));
    }
  }
}

export async function uploadInParts(send: Send, body: Uint8Array, options: MultipartOptions = {}): Promise<MultipartResult> {
  const address = options.address ?? `b3:${bytesToHex(blake3(body))}`;
  const attempts = options.attempts ?? 3;
  const request = { address, size: body.length, ...(options.contentType ? { content_type: options.contentType } : {}) };
  const opened = (await send("POST", "/uploads", new TextEncoder().encode(JSON.stringify(request)), { "content-type": "application/json" })).json as Opened;
  const id = encodeURIComponent(opened.upload_id);
  options.onOpen?.(opened.parts, opened.part_bytes);
  try {
    let next = 1;
    let done = 0;
    let sent = 0;
    const worker = async () => {
      while (next <= opened.parts) {
        const n = next++;
        const part = body.subarray((n - 1) * opened.part_bytes, Math.min(body.length, n * opened.part_bytes));
        await withRetries(attempts, () => send("PUT", `/uploads/${id}/${n}`, part, { "content-type": "application/octet-stream", "content-length": String(part.length) }));
        done++;
        sent += part.length;
        options.onPart?.(done, opened.parts, sent);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, opened.parts)) }, worker));
    const completed = await withRetries(attempts, () => send("POST", `/uploads/${id}/complete`));
    const json = completed.json as { address: string; size: number };
    return { address: json.address, size: json.size, created: completed.status === 201, parts: opened.parts, partBytes: opened.part_bytes };
  } catch (error) {
    // a failed complete with ADDRESS_MISMATCH aborted it already; anything else leaves it open: drop it
    await send("DELETE", `/uploads/${id}`).catch(() => {});
    throw error;
  }
}
