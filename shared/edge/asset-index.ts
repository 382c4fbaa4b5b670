/**
 * @module The edge's asset index: asset path → the content address (and type) of its current
 * bytes, which live in the content-addressed store. Publishing a new version writes new bytes and
 * moves the pointer; the old bytes stay addressable. R2 (`edge/index/<path>`) or, in amnesia
 * mode, the RAM store's pointers, kept by the shard their name picks and counted against that
 * shard's byte budget (`AMNESIA_MAX_BYTES / AMNESIA_SHARDS`), so new paths cannot grow memory past it.
 */
import type { AmnesiaStoreRpc } from "../store/amnesia-rpc";
import { configOf } from "../context";
import type { StoreContext } from "../store";
import { amnesiaShard, shardOfPointer, type AmnesiaLayout } from "../store/amnesia-shards";

export interface AssetEntry {
  b3: string; // hex
  size: number;
  type: string;
}

/** `full`: the RAM budget (of `shard`, the shard the pointer's name picks) cannot take the pointer; nothing changed. */
export type IndexPutOutcome = { status: "stored" } | { status: "full"; usedBytes: number; budgetBytes: number; shard?: string };

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
  constructor(
    private readonly namespace: DurableObjectNamespace<AmnesiaStoreRpc>,
    private readonly layout: AmnesiaLayout,
  ) {}
  /** The shard that holds the pointer `name`. */
  #shardOf(name: string) {
    return amnesiaShard(this.namespace, this.layout, shardOfPointer(name, this.layout.shards));
  }
  async get(path: string) {
    const name = `edge:${path}`;
    return parse(await this.#shardOf(name).stub.getPointer(name));
  }
  async put(path: string, entry: AssetEntry): Promise<IndexPutOutcome> {
    const name = `edge:${path}`;
    const shard = this.#shardOf(name);
    const outcome = await shard.stub.setPointer(name, JSON.stringify(entry), shard.budgetBytes);
    return outcome.status === "full" ? { ...outcome, shard: shard.name } : outcome;
  }
}

/** The request's asset index; its reads and writes are the store's, timed as `store` in Server-Timing. */
export function assetIndexFor(rc: StoreContext): AssetIndex {
  const { env } = rc;
  const config = configOf(rc);
  const layout = { maxBytes: config.AMNESIA_MAX_BYTES, shards: config.AMNESIA_SHARDS };
  const index = config.AMNESIA ? new AmnesiaAssetIndex(env.AMNESIA_STORE, layout) : new R2AssetIndex(env.OBJECTS);
  return {
    get: (path) => rc.timing.measure("store", index.get(path)),
    put: (path, entry) => rc.timing.measure("store", index.put(path, entry)),
  };
}
