/**
 * @module Multipart uploads in amnesia mode, seen from a worker: RPC calls to the AmnesiaStore
 * Durable Object (durable-objects/amnesia-multipart.ts), which keeps everything in memory under
 * the store's byte budget. A part's bytes go over chunk by chunk, as a streamed upload's do.
 */
import type { AmnesiaStoreRpc } from "../amnesia-rpc";
import { amnesiaShard, shardOfAddress, shardOfUpload, uploadIdForShard, type AmnesiaLayout, type AmnesiaShard } from "../amnesia-shards";
import type { PartRecord } from "./combine";
import type { CompleteOutcome, CreateOutcome, MultipartStore, PartOutcome, UploadLimits, UploadRecord } from "./multipart-store";
import type { PartUpload } from "./part-upload";

export class AmnesiaMultipartStore implements MultipartStore {
  readonly kind = "amnesia";
  constructor(
    private readonly namespace: DurableObjectNamespace<AmnesiaStoreRpc>,
    private readonly layout: AmnesiaLayout,
  ) {}

  /** The shard holding upload `id`: the shard of the address it uploads, so the object is born where reads look for it. */
  #shard(id: string): AmnesiaShard {
    return amnesiaShard(this.namespace, this.layout, shardOfUpload(id, this.layout.shards));
  }

  async create(plan: Omit<UploadRecord, "id" | "expiresAt">, outboardBytes: number, limits: UploadLimits): Promise<CreateOutcome> {
    const target = shardOfAddress(plan.hex, this.layout.shards);
    const shard = amnesiaShard(this.namespace, this.layout, target);
    const outcome = await shard.stub.createMultipart(uploadIdForShard(target, this.layout.shards), plan, outboardBytes, limits, shard.budgetBytes);
    return outcome.status === "full" ? { ...outcome, shard: shard.name } : outcome;
  }

  get(id: string, now: number): Promise<UploadRecord | null> {
    return this.#shard(id).stub.multipartUpload(id, now);
  }

  async putPart(upload: UploadRecord, part: PartUpload): Promise<PartOutcome> {
    const shard = this.#shard(upload.id);
    const start = await shard.stub.beginPart(upload.id, part.n, part.size, shard.budgetBytes);
    if (start.status !== "ready") {
      await part.body.cancel().catch(() => {});
      return start;
    }
    const reader = part.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await shard.stub.appendPart(start.attempt, value);
      }
      return { status: await shard.stub.commitPart(start.attempt, part.cvs()) };
    } catch (error) {
      await shard.stub.abortPart(start.attempt).catch(() => {});
      await reader.cancel(error).catch(() => {});
      throw part.failure ?? error;
    }
  }

  async parts(upload: UploadRecord): Promise<{ parts: PartRecord[]; version: string }> {
    return (await this.#shard(upload.id).stub.multipartParts(upload.id)) ?? { parts: [], version: "gone" };
  }

  complete(upload: UploadRecord, version: string, outboard: Uint8Array): Promise<CompleteOutcome> {
    return this.#shard(upload.id).stub.completeMultipart(upload.id, version, outboard);
  }

  abort(id: string): Promise<boolean> {
    return this.#shard(id).stub.abortMultipart(id);
  }

  /** Summed over the shards (each counts and expires its own). */
  async open(now: number): Promise<{ open: number; expired: number }> {
    const counts = await Promise.all(Array.from({ length: this.layout.shards }, (_, index) => amnesiaShard(this.namespace, this.layout, index).stub.openMultipart(now)));
    return counts.reduce((sum, count) => ({ open: sum.open + count.open, expired: sum.expired + count.expired }), { open: 0, expired: 0 });
  }
}
