/**
 * @module AmnesiaStore: the RAM-only object store of amnesia mode. One instance per worker
 * holds every object in memory under a byte budget; it never touches Durable Object storage,
 * so nothing reaches disk and everything is gone when the instance is evicted or restarted.
 * A Durable Object (rather than isolate memory) makes every isolate see the same objects.
 */
import { DurableObject } from "cloudflare:workers";
import type { ObjectInfo, PutOutcome, StoredObject } from "../shared/store/object-store";

interface Entry {
  bytes: Uint8Array;
  contentType: string;
}

export class AmnesiaStore extends DurableObject {
  /** Not `#private`, so tests can corrupt an object underneath via runInDurableObject. */
  protected readonly objects = new Map<string, Entry>();
  protected usedBytes = 0;

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
    if (this.usedBytes + bytes.length > budgetBytes) return { status: "full", usedBytes: this.usedBytes, budgetBytes };
    this.objects.set(hex, { bytes, contentType });
    this.usedBytes += bytes.length;
    return { status: "created" };
  }

  /** Named pointers to objects (the edge's asset index), in memory like the objects. */
  protected readonly pointers = new Map<string, string>();

  async getPointer(name: string): Promise<string | null> {
    return this.pointers.get(name) ?? null;
  }

  async setPointer(name: string, value: string): Promise<void> {
    this.pointers.set(name, value);
  }

  async stats(): Promise<{ usedBytes: number; objects: number }> {
    return { usedBytes: this.usedBytes, objects: this.objects.size };
  }
}
