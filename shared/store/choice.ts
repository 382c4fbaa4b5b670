/** @module Which object store the configuration picks, and how the RAM store is split. */
import type { Config } from "../config";

export interface StoreChoice {
  amnesia: boolean;
  amnesiaMaxBytes: number;
  amnesiaShards: number;
}

export const storeChoice = (config: Pick<Config, "AMNESIA" | "AMNESIA_MAX_BYTES" | "AMNESIA_SHARDS">): StoreChoice => ({
  amnesia: config.AMNESIA,
  amnesiaMaxBytes: config.AMNESIA_MAX_BYTES,
  amnesiaShards: config.AMNESIA_SHARDS,
});
