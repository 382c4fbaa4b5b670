/**
 * @module AmnesiaStore: the RAM-only object store of amnesia mode. Each instance is one shard
 * (`amnesia-<i>`, shared/store/amnesia-shards.ts picks it) and holds the objects and pointers routed
 * to it in memory under the byte budget each call passes; it never touches Durable Object storage,
 * so nothing reaches disk and everything is gone when the isolate restarts (state lives in isolate
 * memory, so the instance's eviction when idle does not lose it: shared/isolate-memory.ts).
 * A Durable Object (rather than isolate memory) makes every isolate see the same objects.
 */
import { DurableObject } from "cloudflare:workers";
import { isolateMemory } from "../shared/isolate-memory";
import type { ObjectInfo, PeekedObject, PutOutcome, StoredObject } from "../shared/store/object-store";
import type { AmnesiaStoreRpc, PointerOutcome, UploadStart } from "../shared/store/amnesia-rpc";

export type { PointerOutcome, UploadStart } from "../shared/store/amnesia-rpc";
import type { PartRecord } from "../shared/store/multipart/combine";
import type { CompleteOutcome, CreateOutcome, UploadLimits, UploadRecord } from "../shared/store/multipart/multipart-store";
import { AmnesiaMultipart, emptyMultipart, type MultipartHeld, type PartStart } from "./amnesia-multipart";

interface Entry {
  bytes: Uint8Array;
  contentType: string;
  /** The outboard tree (shared/store/outboard.ts); absent until built for an object put whole. */
  outboard?: Uint8Array;
}

interface Held {
  objects: Map<string, Entry>;
  pointers: Map<string, string>;
  /** Streamed uploads in progress, by id. */
  uploads: Map<string, Upload>;
  /** Multipart uploads (`POST /uploads`) open, and their part attempts in flight. */
  multipart: MultipartHeld;
  /** Object bytes plus pointer bytes (name and value): one budget, so pointers cannot grow past it. */
  usedBytes: number;
}

/** What a pointer costs in the budget: the UTF-8 bytes of its name and its value. */
const encoder = new TextEncoder();
const pointerBytes = (name: string, value: string) => encoder.encode(name).length + encoder.encode(value).length;

/** An upload on its way in: its budget is reserved and its buffer allocated. */
interface Upload {
  hex: string;
  contentType: string;
  /** Object plus outboard bytes, reserved in the budget. */
  cost: number;
  bytes: Uint8Array;
  filled: number;
  touched: number;
}

/** An upload with no chunk for this long is dropped (its uploader went away without aborting). */
const UPLOAD_IDLE_MS = 60_000;

export class AmnesiaStore extends DurableObject implements AmnesiaStoreRpc {
  // In isolate memory, not instance fields: an idle instance is evicted within seconds.
  readonly #held: Held = isolateMemory(this.ctx, "amnesia-store", () => ({ objects: new Map(), pointers: new Map(), uploads: new Map(), multipart: emptyMultipart(), usedBytes: 0 }));
  readonly #multipart = new AmnesiaMultipart(this.#held, this.#held.multipart);

  /** Not `#private`, so tests can corrupt an object underneath via runInDurableObject. */
  protected get objects(): Map<string, Entry> {
    return this.#held.objects;
  }

  async head(hex: string): Promise<ObjectInfo | null> {
    const entry = this.objects.get(hex);
    return entry ? { size: entry.bytes.length, contentType: entry.contentType } : null;
  }

  /** Size and type, and the bytes when the object is at most `inlineBytes`: a GET's one call. */
  async peek(hex: string, inlineBytes: number): Promise<PeekedObject | null> {
    const entry = this.objects.get(hex);
    if (!entry) return null;
    return { size: entry.bytes.length, contentType: entry.contentType, bytes: entry.bytes.length <= inlineBytes ? entry.bytes : null };
  }

  async get(hex: string): Promise<StoredObject | null> {
    const entry = this.objects.get(hex);
    return entry ? { bytes: entry.bytes, size: entry.bytes.length, contentType: entry.contentType } : null;
  }

  async getRange(hex: string, offset: number, length: number): Promise<Uint8Array | null> {
    const entry = this.objects.get(hex);
    return entry ? entry.bytes.slice(offset, offset + length) : null;
  }

  /** Store unless present; refuse ("full") when the object would exceed `budgetBytes`. */
  async put(hex: string, bytes: Uint8Array, contentType: string, budgetBytes: number): Promise<PutOutcome> {
    if (this.objects.has(hex)) return { status: "existing" };
    if (this.#held.usedBytes + bytes.length > budgetBytes) return { status: "full", usedBytes: this.#held.usedBytes, budgetBytes };
    this.objects.set(hex, { bytes, contentType });
    this.#held.usedBytes += bytes.length;
    return { status: "created" };
  }

  /**
   * Start a streamed upload of `size` bytes plus its `outboardBytes`-byte outboard: the budget is
   * reserved now, the object's one buffer allocated; chunks follow (`appendUpload`), then
   * `commitUpload` with the outboard, or `abortUpload`. Chunks come as RPC calls rather than one
   * RPC stream: a stream the uploader errors (bytes that miss their address) leaves unhandled
   * rejections inside the runtime. An upload left idle for `UPLOAD_IDLE_MS` is dropped.
   */
  async beginUpload(hex: string, size: number, outboardBytes: number, contentType: string, budgetBytes: number): Promise<UploadStart> {
    this.#dropIdleUploads();
    if (this.objects.has(hex)) return { status: "existing" };
    const cost = size + outboardBytes;
    if (this.#held.usedBytes + cost > budgetBytes) return { status: "full", usedBytes: this.#held.usedBytes, budgetBytes };
    this.#held.usedBytes += cost;
    const id = crypto.randomUUID();
    this.#held.uploads.set(id, { hex, contentType, cost, bytes: new Uint8Array(size), filled: 0, touched: Date.now() });
    return { status: "ready", id };
  }

  /** The next bytes of upload `id`; past its size it is dropped and this throws. */
  async appendUpload(id: string, chunk: Uint8Array): Promise<void> {
    const upload = this.#upload(id);
    if (upload.filled + chunk.length > upload.bytes.length) {
      this.#dropUpload(id);
      throw new Error("upload runs past its declared size");
    }
    upload.bytes.set(chunk, upload.filled);
    upload.filled += chunk.length;
    upload.touched = Date.now();
  }

  /** Keep upload `id` (all its bytes in) with its outboard; "existing" when another upload of it won. */
  async commitUpload(id: string, outboard: Uint8Array): Promise<PutOutcome> {
    const upload = this.#upload(id);
    this.#held.uploads.delete(id);
    if (upload.filled !== upload.bytes.length || upload.bytes.length + outboard.length !== upload.cost || this.objects.has(upload.hex)) {
      this.#held.usedBytes -= upload.cost;
      if (this.objects.has(upload.hex)) return { status: "existing" };
      throw new Error(`upload holds ${upload.filled} of ${upload.bytes.length} bytes, or a wrong-sized outboard`);
    }
    this.objects.set(upload.hex, { bytes: upload.bytes, contentType: upload.contentType, outboard });
    return { status: "created" };
  }

  /** Drop upload `id` and release its budget (the uploader's bytes missed their address, or stopped). */
  async abortUpload(id: string): Promise<void> {
    this.#dropUpload(id);
  }

  #upload(id: string): Upload {
    const upload = this.#held.uploads.get(id);
    if (!upload) throw new Error(`no upload ${id} (aborted, or idle past ${UPLOAD_IDLE_MS} ms)`);
    return upload;
  }

  #dropUpload(id: string): void {
    const upload = this.#held.uploads.get(id);
    if (!upload) return;
    this.#held.uploads.delete(id);
    this.#held.usedBytes -= upload.cost;
  }

  #dropIdleUploads(): void {
    const now = Date.now();
    for (const [id, upload] of this.#held.uploads) if (now - upload.touched > UPLOAD_IDLE_MS) this.#dropUpload(id);
  }

  // Multipart uploads (durable-objects/amnesia-multipart.ts): the budget is the store's own.

  async createMultipart(id: string, plan: Omit<UploadRecord, "id" | "expiresAt">, outboardBytes: number, limits: UploadLimits, budgetBytes: number): Promise<CreateOutcome> {
    return this.#multipart.create(id, plan, outboardBytes, limits, budgetBytes);
  }

  async multipartUpload(id: string, now: number): Promise<UploadRecord | null> {
    return this.#multipart.get(id, now);
  }

  async beginPart(id: string, n: number, length: number, budgetBytes: number): Promise<PartStart> {
    return this.#multipart.beginPart(id, n, length, budgetBytes);
  }

  async appendPart(attempt: string, chunk: Uint8Array): Promise<void> {
    this.#multipart.appendPart(attempt, chunk);
  }

  async commitPart(attempt: string, cvs: Uint8Array): Promise<"stored" | "unknown"> {
    return this.#multipart.commitPart(attempt, cvs);
  }

  async abortPart(attempt: string): Promise<void> {
    this.#multipart.abortPart(attempt);
  }

  async multipartParts(id: string): Promise<{ parts: PartRecord[]; version: string } | null> {
    return this.#multipart.parts(id);
  }

  async completeMultipart(id: string, version: string, outboard: Uint8Array): Promise<CompleteOutcome> {
    return this.#multipart.complete(id, version, outboard);
  }

  async abortMultipart(id: string): Promise<boolean> {
    return this.#multipart.abort(id);
  }

  async openMultipart(now: number): Promise<{ open: number; expired: number }> {
    this.#multipart.sweep(now);
    return { open: this.#held.multipart.uploads.size, expired: this.#multipart.takeExpired() };
  }

  async getOutboard(hex: string, offset: number, length: number): Promise<Uint8Array | null> {
    const outboard = this.objects.get(hex)?.outboard;
    return outboard ? outboard.slice(offset, offset + length) : null;
  }

  /** Keep an outboard built for an object put whole; false when absent, over the budget, or one is kept already (the first stays). */
  async putOutboard(hex: string, outboard: Uint8Array, budgetBytes: number): Promise<boolean> {
    const entry = this.objects.get(hex);
    if (!entry || entry.outboard) return false;
    if (this.#held.usedBytes + outboard.length > budgetBytes) return false;
    entry.outboard = outboard;
    this.#held.usedBytes += outboard.length;
    return true;
  }

  async getPointer(name: string): Promise<string | null> {
    return this.#held.pointers.get(name) ?? null;
  }

  /** Set a pointer unless the bytes it adds would exceed `budgetBytes` (then nothing changes). */
  async setPointer(name: string, value: string, budgetBytes: number): Promise<PointerOutcome> {
    const previous = this.#held.pointers.get(name);
    const delta = pointerBytes(name, value) - (previous === undefined ? 0 : pointerBytes(name, previous));
    if (delta > 0 && this.#held.usedBytes + delta > budgetBytes) return { status: "full", usedBytes: this.#held.usedBytes, budgetBytes };
    this.#held.pointers.set(name, value);
    this.#held.usedBytes += delta;
    return { status: "stored" };
  }

  async stats(): Promise<{ usedBytes: number; objects: number; pointers: number }> {
    return { usedBytes: this.#held.usedBytes, objects: this.objects.size, pointers: this.#held.pointers.size };
  }
}
