/**
 * @module The overlay knobs a session needs, resolved by the worker from its validated config and
 * handed to the session Durable Object with the upgrade (so a session keeps the settings it was
 * opened with, through hibernation, and tests can open sessions with other knobs).
 */
import type { Config } from "../config";
import type { StoreChoice } from "../store";
import type { PqMode, SessionLimits } from "./protocol";

export interface OverlaySettings {
  pqMode: PqMode;
  handshakeTimeoutMs: number;
  limits: SessionLimits;
  fetchMaxBytes: number;
  gossip: GossipSettings;
  store: StoreChoice;
  /** Verified reads of fetched objects (VERIFY_GROUP_BYTES, STREAM_CHUNK_BYTES). */
  verify: { groupBytes: number; chunkBytes: number };
}

export interface GossipSettings {
  fanout: number;
  ttlMs: number;
  maxHops: number;
  maxSubscribers: number;
  /** A subscriber skipped (no credit) for this long, and at least 4 × window times in a row, is evicted. */
  evictAfterMs: number;
  /** Relays a hub keeps in progress before publishes are refused (WORK_QUEUE_CAPACITY). */
  queueCapacity: number;
  /** Hubs keep subscribers in storage; false in amnesia mode (isolate memory only). */
  persistent: boolean;
}

/** Internal header carrying the settings from the worker to the session object; never taken from clients. */
export const SETTINGS_HEADER = "x-ron-overlay-settings";
/** Internal header naming the session's client (OVERLAY_MAX_SESSIONS_PER_CLIENT); set by the worker. */
export const CLIENT_HEADER = "x-ron-overlay-client";
/** The client key when the request has no `CF-Connecting-IP` (local runs): all such clients share it. */
export const LOCAL_CLIENT = "local";

/** Whose sessions these are: the client's IP as Cloudflare saw it, else the shared local key. */
export const clientKeyOf = (request: Request): string => request.headers.get("CF-Connecting-IP")?.trim() || LOCAL_CLIENT;

export function overlaySettings(config: Config): OverlaySettings {
  return {
    pqMode: config.OVERLAY_PQ_MODE,
    handshakeTimeoutMs: config.OVERLAY_HANDSHAKE_TIMEOUT_MS,
    limits: {
      max_frame: config.OVERLAY_MAX_FRAME_BYTES,
      chunk: Math.min(config.OVERLAY_CHUNK_BYTES, config.OVERLAY_MAX_FRAME_BYTES - 1_024),
      inflight: config.OVERLAY_PEER_INFLIGHT,
      rps: config.OVERLAY_PEER_RPS,
      send_window: config.OVERLAY_SEND_WINDOW,
      idle_timeout_ms: config.OVERLAY_IDLE_TIMEOUT_MS,
    },
    fetchMaxBytes: config.OVERLAY_FETCH_MAX_BYTES,
    gossip: {
      fanout: config.OVERLAY_GOSSIP_FANOUT,
      ttlMs: config.OVERLAY_GOSSIP_TTL_MS,
      maxHops: config.OVERLAY_GOSSIP_MAX_HOPS,
      maxSubscribers: config.OVERLAY_GOSSIP_MAX_SUBSCRIBERS,
      evictAfterMs: config.OVERLAY_GOSSIP_EVICT_AFTER_MS,
      queueCapacity: config.WORK_QUEUE_CAPACITY,
      persistent: !config.AMNESIA,
    },
    store: { amnesia: config.AMNESIA, amnesiaMaxBytes: config.AMNESIA_MAX_BYTES, amnesiaShards: config.AMNESIA_SHARDS },
    verify: { groupBytes: config.VERIFY_GROUP_BYTES, chunkBytes: config.STREAM_CHUNK_BYTES },
  };
}
