/**
 * @module The amnesia strategy, seen from a worker: RPC calls to the single AmnesiaStore
 * Durable Object, passing the configured byte budget with every write.
 */
import type { AmnesiaStore } from "../../durable-objects/amnesia-store";
import type { ObjectInfo, ObjectStore, PutOutcome, StoreHealth, StoredObject } from "./object-store";

export interface AmnesiaStoreEnv {
  AMNESIA_STORE: DurableObjectNamespace<AmnesiaStore>;
}

/** Single tenant: one store instance per worker deployment. */
const INSTANCE_NAME = "objects";

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

  async health(): Promise<StoreHealth> {
    const { usedBytes } = await this.#stub.stats();
    return { usable: true, usedBytes, budgetBytes: this.budgetBytes };
  }
}
