/**
 * @module The amnesia strategy, seen from a worker: RPC calls to the single AmnesiaStore
 * Durable Object, passing the configured byte budget with every write.
 */
import type { AmnesiaStore } from "../../durable-objects/amnesia-store";
import type { ObjectInfo, ObjectStore, PutOutcome, StoreHealth, StoredObject, StreamedPut } from "./object-store";

export interface AmnesiaStoreEnv {
  AMNESIA_STORE: DurableObjectNamespace<AmnesiaStore>;
}

/** Single tenant: one store instance per worker deployment. */
const INSTANCE_NAME = "objects";
/** Bytes asked of the store per call when streaming an object out. */
const READ_BLOCK_BYTES = 1024 * 1024;

export class AmnesiaObjectStore implements ObjectStore {
  readonly kind = "amnesia";
  readonly #stub: DurableObjectStub<AmnesiaStore>;

  constructor(namespace: DurableObjectNamespace<AmnesiaStore>, private readonly budgetBytes: number) {
    this.#stub = namespace.get(namespace.idFromName(INSTANCE_NAME));
  }

  head(hex: string): Promise<ObjectInfo | null> {
    return this.#stub.head(hex);
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
    if (!(await this.#stub.head(hex))) return null;
    const end = offset + length;
    let at = offset;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (at >= end) return controller.close();
        const block = await this.#stub.getRange(hex, at, Math.min(READ_BLOCK_BYTES, end - at));
        if (!block || block.length === 0) return controller.error(new Error(`object b3:${hex} ended early`));
        at += block.length;
        controller.enqueue(block);
      },
    });
  }

  /** One RPC stream: the body, then the outboard once the body has ended cleanly. */
  putStream(hex: string, upload: StreamedPut): Promise<PutOutcome> {
    const { readable, writable } = new FixedLengthStream(upload.size + upload.outboardBytes);
    void (async () => {
      await upload.body.pipeTo(writable, { preventClose: true });
      const writer = writable.getWriter();
      await writer.write(upload.outboard());
      await writer.close();
    })().catch(() => {}); // pipeTo has aborted `writable` with the body's error: the store sees it fail
    return this.#stub.putStream(hex, upload.size, upload.outboardBytes, upload.contentType, this.budgetBytes, readable);
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
