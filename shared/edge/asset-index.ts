/**
 * @module The edge's asset index: asset path → the content address (and type) of its current
 * bytes, which live in the content-addressed store. Publishing a new version writes new bytes and
 * moves the pointer; the old bytes stay addressable. R2 (`edge/index/<path>`) or, in amnesia
 * mode, the RAM store's pointers, which count against the same byte budget as the objects
 * (`AMNESIA_MAX_BYTES`), so new paths cannot grow memory past it.
 */
import type { AmnesiaStoreRpc } from "../store/amnesia-rpc";
import { configOf } from "../context";
import type { StoreContext } from "../store";

export interface AssetEntry {
  b3: string; // hex
  size: number;
  type: string;
}

/** `full`: the RAM budget cannot take the pointer; nothing changed. */
export type IndexPutOutcome = { status: "stored" } | { status: "full"; usedBytes: number; budgetBytes: number };

export interface AssetIndex {
  get(path: string): Promise<AssetEntry | null>;
  put(path: string, entry: AssetEntry): Promise<IndexPutOutcome>;
}

const parse = (text: string | null): AssetEntry | null => (text ? (JSON.parse(text) as AssetEntry) : null);

class R2AssetIndex implements AssetIndex {
  constructor(private readonly bucket: R2Bucket) {}
  async get(path: string) {
    const object = await this.bucket.get(`edge/index/${path}`);
    return object ? parse(await object.text()) : null;
  }
  async put(path: string, entry: AssetEntry): Promise<IndexPutOutcome> {
    await this.bucket.put(`edge/index/${path}`, JSON.stringify(entry), { httpMetadata: { contentType: "application/json" } });
    return { status: "stored" };
  }
}

class AmnesiaAssetIndex implements AssetIndex {
  constructor(private readonly stub: DurableObjectStub<AmnesiaStoreRpc>, private readonly budgetBytes: number) {}
  async get(path: string) {
    return parse(await this.stub.getPointer(`edge:${path}`));
  }
  async put(path: string, entry: AssetEntry): Promise<IndexPutOutcome> {
    return this.stub.setPointer(`edge:${path}`, JSON.stringify(entry), this.budgetBytes);
  }
}

/** The request's asset index; its reads and writes are the store's, timed as `store` in Server-Timing. */
export function assetIndexFor(rc: StoreContext): AssetIndex {
  const { env } = rc;
  const config = configOf(rc);
  const index = config.AMNESIA ? new AmnesiaAssetIndex(env.AMNESIA_STORE.get(env.AMNESIA_STORE.idFromName("objects")), config.AMNESIA_MAX_BYTES) : new R2AssetIndex(env.OBJECTS);
  return {
    get: (path) => rc.timing.measure("store", index.get(path)),
    put: (path, entry) => rc.timing.measure("store", index.put(path, entry)),
  };
}
