/**
 * @module Objects in R2 (binding `OBJECTS`), keyed `b3/<hex>`. Writes are conditional on the key
 * being absent, so the first writer wins and later writers learn the object already exists.
 */
import type { ObjectInfo, ObjectStore, PutOutcome, StoreHealth, StoredObject } from "./object-store";

export interface R2StoreEnv {
  OBJECTS: R2Bucket;
}

export const r2Key = (hex: string) => `b3/${hex}`;
const DEFAULT_TYPE = "application/octet-stream";

export class R2ObjectStore implements ObjectStore {
  readonly kind = "r2";
  constructor(private readonly bucket: R2Bucket) {}

  async head(hex: string): Promise<ObjectInfo | null> {
    const object = await this.bucket.head(r2Key(hex));
    return object ? { size: object.size, contentType: object.httpMetadata?.contentType ?? DEFAULT_TYPE } : null;
  }

  async get(hex: string): Promise<StoredObject | null> {
    const object = await this.bucket.get(r2Key(hex));
    if (!object) return null;
    const bytes = new Uint8Array(await object.arrayBuffer());
    return { bytes, size: bytes.length, contentType: object.httpMetadata?.contentType ?? DEFAULT_TYPE };
  }

  async getRange(hex: string, offset: number, length: number): Promise<Uint8Array | null> {
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

  async health(): Promise<StoreHealth> {
    await this.bucket.head("b3/.readiness-probe"); // throws when the bucket is unreachable
    return { usable: true };
  }
}
