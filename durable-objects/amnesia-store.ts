/**
 * @module AmnesiaStore: the RAM-only object store of amnesia mode. One instance per worker
 * holds every object in memory under a byte budget; it never touches Durable Object storage,
 * so nothing reaches disk and everything is gone when the isolate restarts (state lives in isolate
 * memory, so the instance's eviction when idle does not lose it: shared/isolate-memory.ts).
 * A Durable Object (rather than isolate memory) makes every isolate see the same objects.
 */
import { DurableObject } from "cloudflare:workers";
import { isolateMemory } from "../shared/isolate-memory";
import type { ObjectInfo, PutOutcome, StoredObject } from "../shared/store/object-store";

interface Entry {
  bytes: Uint8Array;
  contentType: string;
  /** The outboard tree (shared/store/outboard.ts); absent until built for an object put whole. */
  outboard?: Uint8Array;
}

interface Held {
  objects: Map<string, Entry>;
  pointers: Map<string, string>;
  /** Object bytes plus pointer bytes (name and value): one budget, so pointers cannot grow past it. */
  usedBytes: number;
}

/** What a pointer costs in the budget: the UTF-8 bytes of its name and its value. */
const encoder = new TextEncoder();
const pointerBytes = (name: string, value: string) => encoder.encode(name).length + encoder.encode(value).length;

export type PointerOutcome = { status: "stored" } | { status: "full"; usedBytes: number; budgetBytes: number };

async function cancelled<T>(stream: ReadableStream<Uint8Array>, outcome: T): Promise<T> {
  await stream.cancel().catch(() => {});
  return outcome;
}

export class AmnesiaStore extends DurableObject {
  // In isolate memory, not instance fields: an idle instance is evicted within seconds.
  readonly #held: Held = isolateMemory(this.ctx, "amnesia-store", () => ({ objects: new Map(), pointers: new Map(), usedBytes: 0 }));

  /** Not `#private`, so tests can corrupt an object underneath via runInDurableObject. */
  protected get objects(): Map<string, Entry> {
    return this.#held.objects;
  }

  async head(hex: string): Promise<ObjectInfo | null> {
    const entry = this.objects.get(hex);
    return entry ? { size: entry.bytes.length, contentType: entry.contentType } : null;
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
   * Take a streamed upload: `stream` carries the object's `size` bytes, then its
   * `outboardBytes`-byte outboard. Budget is reserved up front and released if the stream fails
   * (the uploader errors it when the bytes miss their address): nothing is kept then. The object
   * is read into one buffer of its size, never held twice.
   */
  async putStream(hex: string, size: number, outboardBytes: number, contentType: string, budgetBytes: number, stream: ReadableStream<Uint8Array>): Promise<PutOutcome> {
    const cost = size + outboardBytes;
    if (this.objects.has(hex)) return cancelled(stream, { status: "existing" });
    if (this.#held.usedBytes + cost > budgetBytes) return cancelled(stream, { status: "full", usedBytes: this.#held.usedBytes, budgetBytes });
    this.#held.usedBytes += cost;
    try {
      const bytes = new Uint8Array(size);
      const outboard = new Uint8Array(outboardBytes);
      let at = 0;
      const reader = stream.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (at + value.length > cost) throw new Error(`upload stream runs past its ${cost} bytes`);
        const intoBytes = Math.max(0, Math.min(value.length, size - at));
        bytes.set(value.subarray(0, intoBytes), at);
        outboard.set(value.subarray(intoBytes), at + intoBytes - size);
        at += value.length;
      }
      if (at !== cost) throw new Error(`upload stream ended after ${at} of ${cost} bytes`);
      if (this.objects.has(hex)) {
        this.#held.usedBytes -= cost; // a concurrent upload of the same object won
        return { status: "existing" };
      }
      this.objects.set(hex, { bytes, contentType, outboard });
      return { status: "created" };
    } catch (error) {
      this.#held.usedBytes -= cost;
      throw error;
    }
  }

  async getOutboard(hex: string, offset: number, length: number): Promise<Uint8Array | null> {
    const outboard = this.objects.get(hex)?.outboard;
    return outboard ? outboard.slice(offset, offset + length) : null;
  }

  /** Keep an outboard built for an object put whole; false when absent or over the budget. */
  async putOutboard(hex: string, outboard: Uint8Array, budgetBytes: number): Promise<boolean> {
    const entry = this.objects.get(hex);
    if (!entry) return false;
    if (entry.outboard) return true;
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
