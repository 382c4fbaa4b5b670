/**
 * @module The amnesia strategy, seen from a worker: RPC calls to the AmnesiaStore shard that holds
 * each address (shared/store/amnesia-shards.ts), passing that shard's byte budget with every write.
 */
import type { AmnesiaStoreRpc } from "./amnesia-rpc";
import { amnesiaShard, shardOfAddress, type AmnesiaLayout, type AmnesiaShard } from "./amnesia-shards";
import type { ObjectInfo, ObjectStore, PeekedObject, PutOutcome, StoreHealth, StoredObject, StreamedPut } from "./object-store";

export interface AmnesiaStoreEnv {
  AMNESIA_STORE: DurableObjectNamespace<AmnesiaStoreRpc>;
}

/** Single tenant: one store instance per worker deployment. */
export const AMNESIA_INSTANCE_NAME = "objects";
/** Bytes asked of the store per call when streaming an object out. */
const READ_BLOCK_BYTES = 1024 * 1024;

/**
 * Shards asked at once for their usage (readiness, /metrics). Unbounded (and at 8), the first
 * readyz of a fresh local runtime creates every shard object at once and starves the limiter's
 * check past its 250 ms (tests/ops.test.ts failed so, docs/PERFORMANCE.md); 16 shards take 4 rounds.
 */
const STATS_CONCURRENCY = 4;

export class AmnesiaObjectStore implements ObjectStore {
  readonly kind = "amnesia";
  constructor(
    private readonly namespace: DurableObjectNamespace<AmnesiaStoreRpc>,
    private readonly layout: AmnesiaLayout,
  ) {}

  /** The shard that holds `hex`. */
  #shard(hex: string): AmnesiaShard {
    return amnesiaShard(this.namespace, this.layout, shardOfAddress(hex, this.layout.shards));
  }

  #stub(hex: string): DurableObjectStub<AmnesiaStoreRpc> {
    return this.#shard(hex).stub;
  }

  head(hex: string): Promise<ObjectInfo | null> {
    return this.#stub(hex).head(hex);
  }

  peek(hex: string, inlineBytes: number): Promise<PeekedObject | null> {
    return this.#stub(hex).peek(hex, inlineBytes);
  }

  get(hex: string): Promise<StoredObject | null> {
    return this.#stub(hex).get(hex);
  }

  getRange(hex: string, offset: number, length: number): Promise<Uint8Array | null> {
    return this.#stub(hex).getRange(hex, offset, length);
  }

  async put(hex: string, bytes: Uint8Array, contentType: string): Promise<PutOutcome> {
    const shard = this.#shard(hex);
    const outcome = await shard.stub.put(hex, bytes, contentType, shard.budgetBytes);
    // a refusal names the shard that refused, so the answer can say which budget is spent
    return outcome.status === "full" ? { ...outcome, shard: shard.name } : outcome;
  }

  async readStream(hex: string, offset: number, length: number): Promise<ReadableStream<Uint8Array> | null> {
    const end = offset + length;
    const stub = this.#stub(hex);
    // the first block says whether the object is there: no separate head() call
    let block: Uint8Array | null = await stub.getRange(hex, offset, Math.min(READ_BLOCK_BYTES, length));
    if (!block) return null;
    let at = offset;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (at >= end) return controller.close();
        block ??= await stub.getRange(hex, at, Math.min(READ_BLOCK_BYTES, end - at));
        if (!block || block.length === 0) return controller.error(new Error(`object b3:${hex} ended early`));
        at += block.length;
        controller.enqueue(block);
        block = null;
      },
    });
  }

  /** The body chunk by chunk into the store's one buffer for it, then the outboard; aborted if the body fails. */
  async putStream(hex: string, upload: StreamedPut): Promise<PutOutcome> {
    const shard = this.#shard(hex);
    const stub = shard.stub;
    const start = await stub.beginUpload(hex, upload.size, upload.outboardBytes, upload.contentType, shard.budgetBytes);
    if (start.status !== "ready") {
      await upload.body.cancel().catch(() => {});
      return start.status === "full" ? { ...start, shard: shard.name } : start;
    }
    const reader = upload.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await stub.appendUpload(start.id, value);
      }
      return await stub.commitUpload(start.id, upload.outboard());
    } catch (error) {
      await stub.abortUpload(start.id).catch(() => {});
      await reader.cancel(error).catch(() => {});
      throw error;
    }
  }

  getOutboard(hex: string, offset: number, length: number): Promise<Uint8Array | null> {
    return this.#stub(hex).getOutboard(hex, offset, length);
  }

  putOutboard(hex: string, outboard: Uint8Array): Promise<boolean> {
    const shard = this.#shard(hex);
    return shard.stub.putOutboard(hex, outboard, shard.budgetBytes);
  }

  /** Every shard's usage, summed; the fullest shard named (the others may still have room). */
  async health(): Promise<StoreHealth> {
    const shards = Array.from({ length: this.layout.shards }, (_, index) => amnesiaShard(this.namespace, this.layout, index));
    const used: number[] = [];
    for (let at = 0; at < shards.length; at += STATS_CONCURRENCY) {
      used.push(...(await Promise.all(shards.slice(at, at + STATS_CONCURRENCY).map(async (shard) => (await shard.stub.stats()).usedBytes))));
    }
    const fullest = used.indexOf(Math.max(...used));
    return {
      usable: true,
      usedBytes: used.reduce((sum, bytes) => sum + bytes, 0),
      budgetBytes: shards[0]!.budgetBytes * shards.length,
      shards: { count: shards.length, fullest: { name: shards[fullest]!.name, usedBytes: used[fullest]!, budgetBytes: shards[0]!.budgetBytes } },
    };
  }
}
