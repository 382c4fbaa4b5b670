/**
 * @module Multipart uploads over R2's own multipart API. The object's R2 multipart upload is made
 * at `b3/<hex>` when the upload opens; each part is uploaded to it as it is hashed. What must
 * outlive a request is kept in small R2 records beside it, never in isolate memory:
 * `uploads/<id>` (the plan, R2's upload id and the expiry, as custom metadata) and
 * `uploads/<id>/<n>` (part n's CVs as the body, its length and R2 etag as metadata). R2 creates
 * the object only on complete, which runs only after the parts' CVs combined to the address.
 */
import { pump } from "../../body/pump";
import { r2Key, r2OutboardKey } from "../r2-object-store";
import type { PartRecord } from "./combine";
import type { CompleteOutcome, CreateOutcome, MultipartStore, PartOutcome, UploadLimits, UploadRecord } from "./multipart-store";
import type { PartUpload } from "./part-upload";

const PREFIX = "uploads/";
const recordKey = (id: string) => `${PREFIX}${id}`;
const partPrefix = (id: string) => `${PREFIX}${id}/`;
/** Parts' records read at once when completing. */
const READ_CONCURRENCY = 16;

type RecordMetadata = Record<keyof Omit<UploadRecord, "id">, string> & { r2: string };

function recordOf(id: string, meta: Record<string, string> | undefined): (UploadRecord & { r2: string }) | null {
  if (!meta?.hex || !meta.r2) return null;
  return {
    id,
    hex: meta.hex,
    size: Number(meta.size),
    partBytes: Number(meta.partBytes),
    parts: Number(meta.parts),
    contentType: meta.contentType ?? "application/octet-stream",
    expiresAt: Number(meta.expiresAt),
    r2: meta.r2,
  };
}

export class R2MultipartStore implements MultipartStore {
  readonly kind = "r2";
  constructor(private readonly bucket: R2Bucket) {}

  async create(plan: Omit<UploadRecord, "id" | "expiresAt">, _outboardBytes: number, limits: UploadLimits): Promise<CreateOutcome> {
    const { open, expired } = await this.open(limits.now);
    if (open >= limits.maxOpen) return { status: "too_many", open, expired };
    const multipart = await this.bucket.createMultipartUpload(r2Key(plan.hex), { httpMetadata: { contentType: plan.contentType } });
    const upload: UploadRecord = { ...plan, id: crypto.randomUUID(), expiresAt: limits.now + limits.ttlMs };
    const meta: RecordMetadata = {
      hex: upload.hex,
      size: String(upload.size),
      partBytes: String(upload.partBytes),
      parts: String(upload.parts),
      contentType: upload.contentType,
      expiresAt: String(upload.expiresAt),
      r2: multipart.uploadId,
    };
    await this.bucket.put(recordKey(upload.id), "", { customMetadata: meta });
    return { status: "created", upload, expired };
  }

  /** An expired record is left for the next sweep (`open`, `create`), which drops and counts it. */
  async get(id: string, now: number): Promise<UploadRecord | null> {
    const record = await this.#record(id);
    return record && record.expiresAt > now ? record : null;
  }

  async putPart(upload: UploadRecord, part: PartUpload): Promise<PartOutcome> {
    const record = await this.#record(upload.id);
    if (!record) {
      await part.body.cancel().catch(() => {});
      return { status: "unknown" };
    }
    // R2 takes a stream only with a known length; a failed part body aborts it and the upload below rejects
    const fixed = new FixedLengthStream(part.size);
    void pump(part.body, fixed.writable);
    let uploaded: R2UploadedPart;
    try {
      uploaded = await this.bucket.resumeMultipartUpload(r2Key(record.hex), record.r2).uploadPart(part.n, fixed.readable);
    } catch (error) {
      if (part.failure) throw part.failure;
      if (!(await this.#record(upload.id))) return { status: "unknown" }; // aborted or completed meanwhile
      throw error;
    }
    const key = `${partPrefix(upload.id)}${part.n}`;
    await this.bucket.put(key, part.cvs(), { customMetadata: { size: String(part.size), etag: uploaded.etag } });
    if (!(await this.#record(upload.id))) {
      await this.bucket.delete(key); // dropped while this part was on its way: leave no orphan record
      return { status: "unknown" };
    }
    return { status: "stored" };
  }

  async parts(upload: UploadRecord): Promise<{ parts: PartRecord[]; version: string }> {
    const keys = await this.#partKeys(upload.id);
    const found: { record: PartRecord; etag: string }[] = [];
    for (let at = 0; at < keys.length; at += READ_CONCURRENCY) {
      const batch = await Promise.all(keys.slice(at, at + READ_CONCURRENCY).map((key) => this.bucket.get(key)));
      for (const object of batch) {
        if (!object) continue;
        const n = Number(object.key.slice(partPrefix(upload.id).length));
        const cvs = new Uint8Array(await object.arrayBuffer());
        found.push({ record: { n, size: Number(object.customMetadata?.size), cvs }, etag: object.customMetadata?.etag ?? "" });
      }
    }
    found.sort((a, b) => a.record.n - b.record.n);
    // the etags R2 holds for these CVs: completing with them fails if a part was replaced since
    const version = JSON.stringify(found.map(({ record, etag }) => ({ partNumber: record.n, etag })));
    return { parts: found.map((f) => f.record), version };
  }

  async complete(upload: UploadRecord, version: string, outboard: Uint8Array): Promise<CompleteOutcome> {
    const record = await this.#record(upload.id);
    if (!record) return { status: "unknown" };
    const multipart = this.bucket.resumeMultipartUpload(r2Key(record.hex), record.r2);
    if (await this.bucket.head(r2Key(record.hex))) {
      await this.#drop(record);
      return { status: "existing" };
    }
    try {
      await multipart.complete(JSON.parse(version) as R2UploadedPart[]);
    } catch {
      if (await this.bucket.head(r2Key(record.hex))) {
        await this.#drop(record);
        return { status: "existing" };
      }
      return { status: "changed" };
    }
    // the first outboard stays (as putOutboard): a reader may have cached its top already
    await this.bucket.put(r2OutboardKey(record.hex), outboard, { onlyIf: new Headers({ "If-None-Match": "*" }) });
    await this.#drop(record, { r2: false });
    return { status: "created" };
  }

  async abort(id: string): Promise<boolean> {
    const record = await this.#record(id);
    if (!record) return false;
    await this.#drop(record);
    return true;
  }

  async open(now: number): Promise<{ open: number; expired: number }> {
    let open = 0;
    let expired = 0;
    let cursor: string | undefined;
    do {
      // the records sit directly under uploads/; their parts are one level down
      const page = await this.bucket.list({ prefix: PREFIX, delimiter: "/", include: ["customMetadata"], cursor });
      for (const object of page.objects) {
        const record = recordOf(object.key.slice(PREFIX.length), object.customMetadata);
        if (!record) continue;
        if (record.expiresAt > now) open++;
        else {
          await this.#drop(record);
          expired++;
        }
      }
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    return { open, expired };
  }

  async #record(id: string) {
    const object = await this.bucket.head(recordKey(id));
    return object ? recordOf(id, object.customMetadata) : null;
  }

  async #partKeys(id: string): Promise<string[]> {
    const keys: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.bucket.list({ prefix: partPrefix(id), cursor });
      keys.push(...page.objects.map((o) => o.key));
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    return keys;
  }

  /** Forget the upload: R2's multipart upload (unless it completed), the record, the parts' records. */
  async #drop(record: UploadRecord & { r2: string }, { r2 = true } = {}): Promise<void> {
    if (r2) await this.bucket.resumeMultipartUpload(r2Key(record.hex), record.r2).abort().catch(() => {});
    await this.bucket.delete(recordKey(record.id)); // first: the upload is gone for every caller from here
    const keys = await this.#partKeys(record.id);
    for (let at = 0; at < keys.length; at += 1000) await this.bucket.delete(keys.slice(at, at + 1000));
  }
}
