/**
 * @module Objects in R2 (binding `OBJECTS`), keyed `b3/<hex>`, their outboards beside them at
 * `b3/<hex>.obao`. Writes are conditional on the key being absent, so the first writer wins and
 * later writers learn the object already exists. A streamed upload goes straight to its key: R2
 * creates an object only when its whole body arrived, and the upload's body errors before its
 * last byte unless it hashed to the address, so a failed upload leaves nothing under any key.
 */
import { pump } from "../body/pump";
import type { ObjectInfo, ObjectStore, PeekedObject, PutOutcome, StoreHealth, StoredObject, StreamedPut } from "./object-store";

export interface R2StoreEnv {
  OBJECTS: R2Bucket;
}

export const r2Key = (hex: string) => `b3/${hex}`;
export const r2OutboardKey = (hex: string) => `b3/${hex}.obao`;
const DEFAULT_TYPE = "application/octet-stream";

export class R2ObjectStore implements ObjectStore {
  readonly kind = "r2";
  constructor(private readonly bucket: R2Bucket) {}

  async head(hex: string): Promise<ObjectInfo | null> {
    const object = await this.bucket.head(r2Key(hex));
    return object ? { size: object.size, contentType: object.httpMetadata?.contentType ?? DEFAULT_TYPE } : null;
  }

  /** One ranged read of the first `inlineBytes`: it tells the size, and is the whole object when that is small. */
  async peek(hex: string, inlineBytes: number): Promise<PeekedObject | null> {
    let object: R2ObjectBody | null;
    try {
      object = await this.bucket.get(r2Key(hex), { range: { offset: 0, length: inlineBytes } });
    } catch {
      // R2 refuses a range of an empty object: ask plainly
      object = await this.bucket.get(r2Key(hex));
    }
    if (!object) return null;
    const contentType = object.httpMetadata?.contentType ?? DEFAULT_TYPE;
    if (object.size > inlineBytes) {
      await object.body.cancel();
      return { size: object.size, contentType, bytes: null };
    }
    return { size: object.size, contentType, bytes: new Uint8Array(await object.arrayBuffer()) };
  }

  async get(hex: string): Promise<StoredObject | null> {
    const object = await this.bucket.get(r2Key(hex));
    if (!object) return null;
    const bytes = new Uint8Array(await object.arrayBuffer());
    return { bytes, size: bytes.length, contentType: object.httpMetadata?.contentType ?? DEFAULT_TYPE };
  }

  async getRange(hex: string, offset: number, length: number): Promise<Uint8Array | null> {
    if (length === 0) return (await this.bucket.head(r2Key(hex))) ? new Uint8Array(0) : null; // R2 refuses an empty range
    const object = await this.bucket.get(r2Key(hex), { range: { offset, length } });
    return object ? new Uint8Array(await object.arrayBuffer()) : null;
  }

  async put(hex: string, bytes: Uint8Array, contentType: string): Promise<PutOutcome> {
    if (await this.bucket.head(r2Key(hex))) return { status: "existing" };
    // `If-None-Match: *` makes the write conditional on absence; R2 returns null when it lost the race.
    const written = await this.bucket.put(r2Key(hex), bytes, {
      httpMetadata: { contentType },
      onlyIf: new Headers({ "If-None-Match": "*" }),
    });
    return written ? { status: "created" } : { status: "existing" };
  }

  async readStream(hex: string, offset: number, length: number): Promise<ReadableStream<Uint8Array> | null> {
    if (length === 0) return (await this.bucket.head(r2Key(hex))) ? new Blob([]).stream() : null;
    const object = await this.bucket.get(r2Key(hex), { range: { offset, length } });
    return object ? object.body : null;
  }

  async putStream(hex: string, upload: StreamedPut): Promise<PutOutcome> {
    // R2 takes a stream only with a known length; an error in `upload.body` aborts the write
    const fixed = new FixedLengthStream(upload.size);
    void pump(upload.body, fixed.writable); // a failed body aborts `fixed`: the put below rejects
    const written = await this.bucket.put(r2Key(hex), fixed.readable, {
      httpMetadata: { contentType: upload.contentType },
      onlyIf: new Headers({ "If-None-Match": "*" }),
    });
    if (!written) {
      await fixed.readable.cancel().catch(() => {}); // R2 may not have read it: free the pump
      return { status: "existing" };
    }
    await this.bucket.put(r2OutboardKey(hex), upload.outboard());
    return { status: "created" };
  }

  async getOutboard(hex: string, offset: number, length: number): Promise<Uint8Array | null> {
    const object = await this.bucket.get(r2OutboardKey(hex), { range: { offset, length } });
    return object ? new Uint8Array(await object.arrayBuffer()) : null;
  }

  async putOutboard(hex: string, outboard: Uint8Array): Promise<boolean> {
    // the first outboard stays: a reader that cached its top must never see it change
    return (await this.bucket.put(r2OutboardKey(hex), outboard, { onlyIf: new Headers({ "If-None-Match": "*" }) })) !== null;
  }

  async health(): Promise<StoreHealth> {
    await this.bucket.head("b3/.readiness-probe"); // throws when the bucket is unreachable
    return { usable: true };
  }
}
