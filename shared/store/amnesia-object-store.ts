/**
 * @module The amnesia strategy, seen from a worker: RPC calls to the single AmnesiaStore
 * Durable Object, passing the configured byte budget with every write.
 */
import type { AmnesiaStoreRpc } from "./amnesia-rpc";
import type { ObjectInfo, ObjectStore, PeekedObject, PutOutcome, StoreHealth, StoredObject, StreamedPut } from "./object-store";

export interface AmnesiaStoreEnv {
  AMNESIA_STORE: DurableObjectNamespace<AmnesiaStoreRpc>;
}

/** Single tenant: one store instance per worker deployment. */
export const AMNESIA_INSTANCE_NAME = "objects";
/** Bytes asked of the store per call when streaming an object out. */
const READ_BLOCK_BYTES = 1024 * 1024;

export class AmnesiaObjectStore implements ObjectStore {
  readonly kind = "amnesia";
  readonly #stub: DurableObjectStub<AmnesiaStoreRpc>;

  constructor(namespace: DurableObjectNamespace<AmnesiaStoreRpc>, private readonly budgetBytes: number) {
    this.#stub = namespace.get(namespace.idFromName(AMNESIA_INSTANCE_NAME));
  }

  head(hex: string): Promise<ObjectInfo | null> {
    return this.#stub.head(hex);
  }

  peek(hex: string, inlineBytes: number): Promise<PeekedObject | null> {
    return this.#stub.peek(hex, inlineBytes);
  }

  get(hex: string): Promise<StoredObject | null> {
    return this.#stub.get(hex);
  }

  getRange(hex: string, offset: number, length: number): Promise<Uint8Array | null> {
    return this.#stub.getRange(hex, offset, length);
  }

  put(hex: string, bytes: Uint8Array, contentType: string): Promise<PutOutcome> {
    return this.#stub.put(hex, bytes, contentType, this.budgetBytes);
  }

  async readStream(hex: string, offset: number, length: number): Promise<ReadableStream<Uint8Array> | null> {
    const end = offset + length;
    // the first block says whether the object is there: no separate head() call
    let block: Uint8Array | null = await this.#stub.getRange(hex, offset, Math.min(READ_BLOCK_BYTES, length));
    if (!block) return null;
    let at = offset;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (at >= end) return controller.close();
        block ??= await this.#stub.getRange(hex, at, Math.min(READ_BLOCK_BYTES, end - at));
        if (!block || block.length === 0) return controller.error(new Error(`object b3:${hex} ended early`));
        at += block.length;
        controller.enqueue(block);
        block = null;
      },
    });
  }

  /** The body chunk by chunk into the store's one buffer for it, then the outboard; aborted if the body fails. */
  async putStream(hex: string, upload: StreamedPut): Promise<PutOutcome> {
    const start = await this.#stub.beginUpload(hex, upload.size, upload.outboardBytes, upload.contentType, this.budgetBytes);
    if (start.status !== "ready") {
      await upload.body.cancel().catch(() => {});
      return start;
    }
    const reader = upload.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await this.#stub.appendUpload(start.id, value);
      }
      return await this.#stub.commitUpload(start.id, upload.outboard());
    } catch (error) {
      await this.#stub.abortUpload(start.id).catch(() => {});
      await reader.cancel(error).catch(() => {});
      throw error;
    }
  }

  getOutboard(hex: string, offset: number, length: number): Promise<Uint8Array | null> {
    return this.#stub.getOutboard(hex, offset, length);
  }

  putOutboard(hex: string, outboard: Uint8Array): Promise<boolean> {
    return this.#stub.putOutboard(hex, outboard, this.budgetBytes);
  }

  async health(): Promise<StoreHealth> {
    const { usedBytes } = await this.#stub.stats();
    return { usable: true, usedBytes, budgetBytes: this.budgetBytes };
  }
}
