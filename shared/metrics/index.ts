/**
 * @module The isolate's metric families: the golden set of DESIGN.md §3 plus the families of
 * the object store. Every worker records into these; `/metrics` renders them.
 */
import { Registry } from "./registry";

export { PROMETHEUS_CONTENT_TYPE } from "./registry";

export const registry = new Registry();

export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5] as const;

export const metrics = {
  httpRequests: registry.counter("http_requests_total", "HTTP requests answered, by route template and status.", [
    "service",
    "route",
    "method",
    "status",
  ]),
  requestLatency: registry.histogram(
    "request_latency_seconds",
    "Time from request arrival to response headers, by route template.",
    ["service", "route", "method"],
    LATENCY_BUCKETS,
  ),
  inflight: registry.gauge("inflight_requests", "Requests being handled now (ops routes excluded).", ["service"]),
  rejected: registry.counter("rejected_total", "Requests refused before their handler ran, by reason.", ["reason"]),
  integrityFail: registry.counter("integrity_fail_total", "Stored objects whose bytes no longer match their address."),
  queueDepth: registry.gauge("queue_depth", "Items waiting in a work queue.", ["queue"]),
  queueDropped: registry.counter("queue_dropped_total", "Items dropped from a work queue.", ["queue"]),
  storePuts: registry.counter("object_puts_total", "Object writes by outcome (created, existing, full; a streamed upload that failed: address_mismatch, short_body, long_body, unreadable).", ["store", "result"]),
  storeBytesIn: registry.counter("object_put_bytes_total", "Decoded bytes accepted by /put, by content encoding.", ["encoding"]),
  storeBytes: registry.gauge("object_store_bytes", "Bytes held by the object store (RAM store only).", ["store"]),
  uploadsOpen: registry.gauge("uploads_open", "Multipart uploads open (created, neither completed, aborted nor expired), as of the last scrape.", ["store"]),
  uploads: registry.counter("uploads_total", "Multipart uploads by outcome: created, refused (MAX_OPEN_UPLOADS), full, completed, existing, address_mismatch, aborted, expired.", ["store", "outcome"]),
  storeBudget: registry.gauge("object_store_budget_bytes", "Byte budget of the object store (RAM store only).", ["store"]),
  storeFullestShardBytes: registry.gauge("object_store_fullest_shard_bytes", "Bytes held by the fullest RAM store shard.", ["store"]),
  webhookVerify: registry.counter("webhook_verify_total", "Webhook signature checks by provider and result (ok or the refusal reason).", ["provider", "result"]),
  webhookDenied: registry.counter("webhook_denied_total", "Webhook deliveries refused, by provider (`unknown` for unknown names) and reason; audited only as a sample.", ["provider", "reason"]),
  deadLetters: registry.counter("mailbox_dead_letters_total", "Messages moved to a topic's dead letters after their last attempt (topic label bounded: `_other` past MAILBOX_METRIC_TOPICS).", ["topic"]),
  mailboxDeadLetters: registry.gauge("mailbox_dead_letters", "Dead letters a topic holds, as last seen by this isolate (topic label bounded).", ["topic"]),
  mailboxDeadDropped: registry.counter("mailbox_dead_letters_dropped_total", "Dead letters forgotten: `capacity` (oldest dropped past MAILBOX_DLQ_CAPACITY) or `expired` (MAILBOX_DLQ_TTL_S).", ["topic", "cause"]),
  mailboxTopics: registry.gauge("mailbox_topics", "Mailbox topics holding state (counted against MAILBOX_MAX_TOPICS), as of the last scrape or refusal."),
  mailboxTopicRefusals: registry.counter("mailbox_topic_refusals_total", "Sends refused because they would create a topic past MAILBOX_MAX_TOPICS."),
  auditDropped: registry.counter("audit_drop_total", "Audit records dropped before reaching R2 (buffer full or append failed)."),
  backgroundBatches: registry.counter("background_batches_total", "Background Durable Object calls by kind (audit, put_notify); each carries every record of its kind the isolate made within BACKGROUND_BATCH_MS.", ["kind"]),
  busyRejections: registry.counter("busy_rejections_total", "Requests shed for BACKPRESSURE, by route template.", ["endpoint"]),
  limiterErrors: registry.counter("limiter_errors_total", "Lease requests to the rate limiter that failed or timed out."),
  limiterLeaseCalls: registry.counter("rate_limit_lease_calls_total", "Lease requests this isolate made to RateLimiter objects (most requests make none)."),
  rateLimited: registry.counter("rate_limited_total", "Requests refused 429 RATE_LIMIT, by the bucket that ran dry (client or service).", ["scope"]),
  limiterLeases: registry.gauge("rate_limit_leases", "Bucket keys with a local token lease in this isolate, at most RATE_LIMIT_MAX_KEYS."),
  objectCache: registry.counter("object_cache_total", "Content-addressed reads through the Cache API (CACHE_OBJECTS), by outcome: hit, miss, store (a verified object kept), skip (a full read of an object too large to keep), error (a lookup or keep that failed).", ["outcome"]),
  edgeHits: registry.counter("edge_cache_hits_total", "Edge requests served from stored bytes, by kind (asset, cas).", ["kind"]),
  edgeMisses: registry.counter("edge_cache_misses_total", "Edge requests with nothing stored to serve, by cause.", ["cause"]),
  edgeTileCache: registry.counter("edge_tile_cache_total", "Tile requests answered from the isolate's tile cache (hit) or by reading the pack (miss).", ["result"]),
  edgeTileCacheBytes: registry.gauge("edge_tile_cache_bytes", "Bytes this isolate's tile cache holds (verified packs and tiles), at most EDGE_TILE_CACHE_BYTES."),
  edgeRanges: registry.counter("edge_range_requests_total", "Edge requests with a Range header, by how it was answered.", ["result"]),
  edgeCasWrites: registry.counter("edge_cas_writes_total", "Edge publishes written to the content-addressed store, by outcome.", ["status"]),
  liveFillAttempts: registry.counter("edge_live_fill_attempts_total", "Upstream fetches made to fill an edge miss, by host.", ["host"]),
  liveFillSuccess: registry.counter("edge_live_fill_success_total", "Edge misses filled from an upstream and stored, by host.", ["host"]),
  backoffRetries: registry.counter("backoff_retries_total", "Retries after a backoff, by operation.", ["op"]),
  overlaySessions: registry.gauge("overlay_sessions_active", "Overlay sessions open (upgraded, not yet closed) in this isolate."),
  overlaySessionWakes: registry.counter("overlay_session_wakes_total", "Session objects rebuilt around a still-open socket after hibernation."),
  overlayFrames: registry.counter("overlay_frames_total", "OAP/1 frames on overlay sessions, by direction (rx, tx) and kind.", ["dir", "kind"]),
  overlayFrameSize: registry.histogram("overlay_frame_size_bytes", "Size of OAP/1 frames on overlay sessions, by direction.", ["dir"], [64, 256, 1_024, 4_096, 16_384, 65_536, 262_144, 1_048_576]),
  overlayHandshakeFailures: registry.counter("overlay_handshake_failures_total", "Overlay handshakes that did not produce a session, by reason.", ["reason"]),
  overlayPqNegotiations: registry.counter("overlay_pq_negotiations_total", "Handshakes by the server's pq mode and what was negotiated (hybrid, classical, refused).", ["mode", "outcome"]),
  overlayHandshakeSeconds: registry.histogram("overlay_handshake_seconds", "Server time to answer HELLO with READY, by negotiated key exchange.", ["pq"], [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1]),
  gossipDelivered: registry.counter("gossip_delivered_total", "Gossip EVENTs written to subscribers."),
  gossipDropped: registry.counter("gossip_dropped_total", "Gossip deliveries not made, by reason (duplicate, slow, evicted, ttl, expired, gone, backpressure).", ["reason"]),
  authDenied: registry.counter("auth_denied_total", "Requests and session operations refused by the capability check, by reason (missing_token, bad_token, expired, caveat, not_configured).", ["reason"]),
  sentryEvents: registry.counter("sentry_events_total", "Unhandled errors reported to Sentry, by outcome.", ["outcome"]),
  analyticsWriteErrors: registry.counter("analytics_engine_write_errors_total", "Request data points the METRICS_DATASET binding refused (the request was still answered)."),
};
