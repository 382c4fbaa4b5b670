/**
 * @module Service configuration: every knob is an environment variable (wrangler `[vars]`,
 * `.dev.vars`, or the shell for `npm start`), parsed once per env object by one zod schema.
 * A bad value is reported with the variable's name; the service then answers 503 and
 * `/readyz` lists `config` as missing. docs/CONFIG.md documents every knob.
 */
import * as z from "./zod";
import { decodeRootKey } from "./capability/root-key";
import { log } from "./log";

const KIB = 1024;
const MIB = 1024 * KIB;

/**
 * A knob with a default whose schema is built only when the knob is set: an unset knob takes
 * the default without reaching it, and building every knob's schema at startup was most of the
 * isolate's startup CPU spent in zod (docs/PERFORMANCE.md).
 */
const withDefault = <T extends number | boolean>(fallback: T, build: () => z.ZodMiniType<T, unknown>) => z._default(z.lazy(build), fallback);

/** Plain decimal digits, as docs/CONFIG.md promises: "5000", "0.01"; not "1e6", "0x10" or "". */
const DECIMAL = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)\s*$/;

/** A whole number knob with bounds; accepts numbers or numeric strings ("5000"). */
const integer = (fallback: number, min: number, max: number) =>
  withDefault(fallback, () =>
    z.preprocess(
      (value) => (typeof value === "string" && DECIMAL.test(value) ? Number(value) : value),
      z
        .number({ error: (issue) => (issue.code === "invalid_type" ? "must be a number in plain digits" : undefined) })
        .check(z.int({ error: "must be a whole number" }), z.gte(min, { error: `must be at least ${min}` }), z.lte(max, { error: `must be at most ${max}` })),
    ),
  );

/** A power of two between `min` and `max` (sizes that tree and chunk boundaries must align to). */
const powerOfTwo = (fallback: number, min: number, max: number) =>
  withDefault(fallback, () =>
    z.preprocess(
      (value) => (typeof value === "string" && DECIMAL.test(value) ? Number(value) : value),
      z
        .number({ error: (issue) => (issue.code === "invalid_type" ? "must be a number in plain digits" : undefined) })
        .check(
          z.int({ error: "must be a whole number" }),
          z.gte(min, { error: `must be at least ${min}` }),
          z.lte(max, { error: `must be at most ${max}` }),
          z.refine((n) => (n & (n - 1)) === 0, { error: "must be a power of two" }),
        ),
    ),
  );

/** A fraction between 0 and 1 (e.g. "0.01"). */
const fraction = (fallback: number) =>
  withDefault(fallback, () =>
    z.preprocess(
      (value) => (typeof value === "string" && DECIMAL.test(value) ? Number(value) : value),
      z.number({ error: (issue) => (issue.code === "invalid_type" ? "must be a number in plain digits" : undefined) }).check(z.gte(0, { error: "must be between 0 and 1" }), z.lte(1, { error: "must be between 0 and 1" })),
    ),
  );

/** A boolean knob; accepts true/false, 1/0, yes/no, on/off (any case). */
const flag = (fallback: boolean) => withDefault(fallback, booleanText);

/** The boolean schema of `flag`, also for a boolean knob whose default depends on another (CACHE_OBJECTS). */
const booleanText = () =>
  z.preprocess((value) => {
    if (typeof value !== "string") return value;
    const v = value.trim().toLowerCase();
    if (["true", "1", "yes", "on"].includes(v)) return true;
    if (["false", "0", "no", "off"].includes(v)) return false;
    return value;
  }, z.boolean({ error: "must be true or false (also 1/0, yes/no, on/off)" }));


/** An absolute http(s) URL that paths can be appended to (no credentials, query or fragment). */
function isPublicBase(value: string): boolean {
  if (!/^https?:\/\//i.test(value)) return false;
  try {
    const url = new URL(value);
    return !url.username && !url.password && !url.search && !url.hash && !value.includes("#") && !value.includes("?");
  } catch {
    return false;
  }
}

const optionalText = z.preprocess((value) => (value === "" ? undefined : value), z.optional(z.string()));
/** A capability root key: hex or base64 of at least 32 bytes (docs/SECURITY.md). */
const rootKey = z.preprocess(
  (value) => (value === "" ? undefined : value),
  z.optional(
    z.string().check(
      z.superRefine((text, ctx) => {
        const decoded = decodeRootKey(text);
        if (typeof decoded === "string") ctx.addIssue({ code: "custom", message: decoded });
      }),
    ),
  ),
);
const secret = z.preprocess((value) => (value === "" ? undefined : value), z.optional(z.string().check(z.minLength(8, { error: "must be at least 8 characters" }))));

export const configSchema = z.object({
  /** Whole-request deadline; past it the request gets 503 TIMEOUT. */
  REQUEST_TIMEOUT_MS: integer(5_000, 10, 600_000),
  /** Requests in flight per isolate before new ones are shed with 503 BACKPRESSURE. */
  MAX_INFLIGHT: integer(512, 1, 100_000),
  /** Token bucket per client: requests per second admitted, and the burst above it. */
  RATE_LIMIT_RPS: integer(500, 1, 1_000_000),
  RATE_LIMIT_BURST: integer(250, 1, 1_000_000),
  /** Which buckets a request draws from: its client's, the service-wide one, or both (default). */
  RATE_LIMIT_SCOPE: z._default(z.enum(["client", "service", "both"], { error: "must be client, service or both" }), "both"),
  /** Who a client is: `auto` (its capability token's id when valid, else CF-Connecting-IP), `ip`, or `header:<name>`. */
  RATE_LIMIT_KEY: z._default(z.string().check(z.regex(/^(auto|ip|header:[A-Za-z0-9-]{1,64})$/, { error: "must be auto, ip or header:<name>" })), "auto"),
  /** The service-wide bucket (scope `service` or `both`): all clients together. */
  RATE_LIMIT_SERVICE_RPS: integer(5_000, 1, 10_000_000),
  RATE_LIMIT_SERVICE_BURST: integer(2_500, 1, 10_000_000),
  /** Bucket keys (clients) an isolate keeps a local lease for; past it idle ones go first. */
  RATE_LIMIT_MAX_KEYS: integer(4_096, 1, 1_000_000),
  /** How long an isolate may spend a batch of leased tokens before handing the rest back. */
  RATE_LIMIT_LEASE_MS: integer(50, 5, 10_000),
  /** How long a lease request may take before the limiter counts as unavailable. */
  LIMITER_TIMEOUT_MS: integer(250, 10, 10_000),
  /** Where the deployment-wide single objects live (service rate bucket, mailbox directory, audit anchors); unset: near their first caller. */
  DO_LOCATION_HINT: z.optional(z.enum(["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"], { error: "must be one of wnam, enam, sam, weur, eeur, apac, oc, afr, me" })),
  /** Brownout: past this 5xx rate (or p95) over the window, writes get 503 BROWNOUT; reads stay served. */
  BROWNOUT_ERROR_RATE: fraction(0.01),
  BROWNOUT_P95_MS: integer(1_000, 1, 600_000),
  BROWNOUT_WINDOW_S: integer(10, 1, 600),
  BROWNOUT_MIN_REQUESTS: integer(50, 1, 10_000_000),
  /** /readyz reports `shedding` when more than this share of recent requests was shed. */
  READY_SHED_RATE: fraction(0.1),
  /** /readyz reports a node-wide queue (overlay sessions, gossip relays) degraded past this share of its cap. */
  READY_QUEUE_RATIO: fraction(0.8),
  /** Cap on the summed size of request header names and values; past it 431. */
  MAX_HEADER_BYTES: integer(32 * KIB, 1_024, 1 * MIB),
  /** Wire (encoded) request body cap in bytes. */
  MAX_BODY_BYTES: integer(1 * MIB, 1, 100 * MIB),
  /** Unread request bodies up to this many bytes are read and discarded so the connection stays usable; 0 never drains. */
  BODY_DRAIN_MAX_BYTES: integer(4 * MIB, 0, 100 * MIB),
  /** Decoded bytes may be at most this many times the wire bytes. */
  DECOMPRESS_RATIO_CAP: integer(10, 1, 1_000),
  /** Absolute cap on decoded bytes of one body, whatever the ratio. */
  DECOMPRESS_MAX_BYTES: integer(8 * MIB, 1, 100 * MIB),
  /** Largest object `PUT /o/b3:<hex>` streams into the store (Content-Length). */
  MAX_OBJECT_BYTES: integer(1024 * MIB, 1, 5 * 1024 * MIB),
  /** A streamed upload's deadline: REQUEST_TIMEOUT_MS plus its Content-Length at this rate. */
  UPLOAD_MIN_BYTES_PER_S: integer(1 * MIB, 1 * KIB, 1024 * MIB),
  /** Bytes per verified group of an object's outboard tree: reads are checked group by group. */
  VERIFY_GROUP_BYTES: powerOfTwo(16 * KIB, 1 * KIB, 16 * MIB),
  /** Bytes per read of a streamed upload; at most two such chunks are held per upload. */
  STREAM_CHUNK_BYTES: powerOfTwo(64 * KIB, 1 * KIB, 16 * MIB),
  /** Least bytes per part of a multipart upload (`POST /uploads`): a power of two ≥ 8 MiB, raised for objects that would need more than 10 000 parts. */
  UPLOAD_PART_BYTES: powerOfTwo(8 * MIB, 8 * MIB, 1024 * MIB),
  /** A multipart upload not completed this many seconds after it was created is dropped with its parts. */
  UPLOAD_TTL_S: integer(86_400, 1, 604_800),
  /** Multipart uploads open at once (node-wide); past it `POST /uploads` gets 429. */
  MAX_OPEN_UPLOADS: integer(100, 1, 10_000),
  /** Keep objects in RAM only (bounded, lost on restart) instead of R2. */
  AMNESIA: flag(true),
  /** Byte budget of the RAM-only object store. */
  AMNESIA_MAX_BYTES: integer(64 * MIB, 1, 100 * MIB),
  /** Serve repeated content-addressed reads from the Cache API (bytes verified as they enter it); unset: on unless AMNESIA (the cache is not RAM-only). */
  CACHE_OBJECTS: z.optional(z.lazy(booleanText)),
  /** Durable Objects the RAM store is split over (by address; pointers by name), each with AMNESIA_MAX_BYTES / AMNESIA_SHARDS. */
  AMNESIA_SHARDS: integer(16, 1, 256),
  /** Capacity of each work queue: mailbox topics (messages waiting or in flight). */
  WORK_QUEUE_CAPACITY: integer(512, 1, 100_000),
  /** Window in which a mailbox send with the same (topic, idem_key, payload hash) is a duplicate. */
  MAILBOX_DEDUPE_S: integer(600, 1, 86_400),
  /** Deliveries of one message before it is dead-lettered. */
  MAILBOX_MAX_ATTEMPTS: integer(5, 1, 100),
  /** Dead letters a topic keeps (drop-oldest past it, counted), and how long each is kept. */
  MAILBOX_DLQ_CAPACITY: integer(256, 1, 100_000),
  MAILBOX_DLQ_TTL_S: integer(604_800, 1, 2_592_000),
  /** Topics holding state at once; a send that would create one more is refused (429 topic_limit). */
  MAILBOX_MAX_TOPICS: integer(256, 1, 100_000),
  /** Topics (per isolate) with their own metric series; the rest are folded into topic `_other`. */
  MAILBOX_METRIC_TOPICS: integer(32, 0, 10_000),
  /** Enqueue a notification into the mailbox topic `put` for every accepted POST /put (opt-in). */
  PUT_NOTIFY: flag(false),
  /** Records the audit log keeps (drop-oldest past it). */
  AUDIT_CAPACITY: integer(512, 1, 100_000),
  /** Records per audit segment flushed to R2 (persistent mode only). */
  AUDIT_FLUSH_RECORDS: integer(64, 1, 10_000),
  /** Audit log shards: each isolate appends to one, picked at random once, so no single object takes every append. */
  AUDIT_SHARDS: integer(8, 1, 256),
  /** At most this often (ms) an isolate that just sent an audit batch asks for an anchor record over the shard heads (0: after every batch). */
  AUDIT_ANCHOR_MS: integer(60_000, 0, 86_400_000),
  /** How long a background record (audit append, put notification) waits for others to share its Durable Object call, in ms (0: the same turn only). */
  BACKGROUND_BATCH_MS: integer(2, 0, 1_000),
  /** Allowed clock skew for Stripe and Slack signature timestamps, in seconds. */
  WEBHOOK_TOLERANCE_S: integer(300, 1, 3_600),
  /** Refused webhook deliveries: at most one audit record per provider and reason per this many seconds. */
  WEBHOOK_DENY_AUDIT_S: integer(60, 1, 86_400),
  /** Webhook secrets; a provider without a secret is disabled. `*_PREVIOUS` is accepted during rotation. */
  GITHUB_WEBHOOK_SECRET: secret,
  GITHUB_WEBHOOK_SECRET_PREVIOUS: secret,
  STRIPE_WEBHOOK_SECRET: secret,
  STRIPE_WEBHOOK_SECRET_PREVIOUS: secret,
  SLACK_SIGNING_SECRET: secret,
  SLACK_SIGNING_SECRET_PREVIOUS: secret,
  /** Capability root key (secret): tokens minted under it are accepted. Unset: every write is refused (503 NOT_CONFIGURED). */
  CAP_ROOT_KEY: rootKey,
  /** The previous root key, still accepted during a rotation. */
  CAP_ROOT_KEY_PREVIOUS: rootKey,
  /** Serve /metrics without a token (`metrics` op) — for a scraper on a private network. */
  METRICS_PUBLIC: flag(false),
  /** Edge: serve several ranges as multipart/byteranges (off: the full 200, which RFC 9110 allows). */
  EDGE_MULTI_RANGE: flag(false),
  /** Edge: most range-specs one multipart request may list; more and the Range header is ignored (full 200). */
  EDGE_MAX_RANGES: integer(16, 2, 256),
  /** Edge: how assets of active types (HTML, SVG, XML, script, PDF) are served: `sandbox` inline under CSP sandbox, `attachment` as downloads, `allow` as is. */
  EDGE_ACTIVE_CONTENT: z._default(z.enum(["sandbox", "attachment", "allow"], { error: "must be sandbox, attachment or allow" }), "sandbox"),
  /** Edge: Cache-Control of assets (addressed by path, so they can change; CAS objects are immutable). */
  EDGE_CACHE_CONTROL: z._default(z.string().check(z.minLength(1), z.maxLength(256)), "public, max-age=300"),
  /** Edge: `live` fills misses from allow-listed upstreams; `static` serves only what was published. */
  EDGE_MODE: z._default(z.enum(["static", "live"], { error: "must be static or live" }), "static"),
  /** Edge: upstream hosts (host or host:port, comma-separated) live fill may fetch from; empty denies all. */
  EDGE_ALLOW_HOSTS: z._default(z.preprocess((v) => (typeof v === "string" ? v.split(",").map((h) => h.trim().toLowerCase()).filter(Boolean) : v), z.array(z.string().check(z.regex(/^[a-z0-9.-]+(:\d{1,5})?$/, { error: "must be host or host:port" })))), []),
  /** Edge: scheme of upstream fetches (http only for local test upstreams). */
  EDGE_UPSTREAM_SCHEME: z._default(z.enum(["https", "http"], { error: "must be https or http" }), "https"),
  /** Edge: one upstream attempt's deadline. */
  EDGE_UPSTREAM_TIMEOUT_MS: integer(2_000, 10, 60_000),
  /** Edge: retry budget for upstream 503/504/timeouts: base and max backoff (full jitter), retries. */
  EDGE_RETRY_BASE_MS: integer(50, 1, 60_000),
  EDGE_RETRY_MAX_MS: integer(800, 1, 600_000),
  EDGE_RETRY_COUNT: integer(3, 0, 10),
  /** Edge: PMTiles packs served by the tile API, `name=<asset path>[@<b3 hex>]`, comma-separated. */
  EDGE_PACKS: z._default(
    z.preprocess(
      (v) => (typeof v === "string" ? v.split(",").map((p) => p.trim()).filter(Boolean) : v),
      z.array(z.string().check(z.regex(/^[a-z0-9_-]{1,64}=[^@,\s]{1,1024}(@[0-9a-f]{64})?$/, { error: "must be name=<asset path>[@<64 hex>]" }))),
    ),
    [],
  ),
  /** Edge: bytes of verified pack and tile data each isolate keeps for the tile API (0: none, every tile reads the store). */
  EDGE_TILE_CACHE_BYTES: integer(8 * 1024 * 1024, 0, 256 * 1024 * 1024),
  /** Edge: how long a pack's asset pointer is trusted before the index is read again (0: every request). */
  EDGE_PACK_RECHECK_MS: integer(2_000, 0, 600_000),
  /** Edge: absolute http(s) base of public URLs the service writes into bodies (TileJSON); unset: relative paths, never the request's Host. */
  PUBLIC_BASE_URL: z.preprocess(
    (value) => (value === "" ? undefined : value),
    z.optional(
      z.pipe(
        z.string().check(z.refine(isPublicBase, { error: "must be an absolute http(s) URL without credentials, query or fragment" })),
        z.transform((url: string) => new URL(url).href.replace(/\/+$/, "")), // normalised, so it can be prefixed to paths
      ),
    ),
  ),
  /** Overlay: `off` classical X25519 only; `hybrid` X25519 + ML-KEM-768 when the client offers it; `pq_only` refuses classical clients. */
  OVERLAY_PQ_MODE: z._default(z.enum(["off", "hybrid", "pq_only"], { error: "must be off, hybrid or pq_only" }), "hybrid"),
  /** Overlay: HELLO must arrive, and the client's CONFIRM after READY, within this many ms of the upgrade. */
  OVERLAY_HANDSHAKE_TIMEOUT_MS: integer(3_000, 100, 60_000),
  /** Overlay: a session with no frame from the peer for this long is closed. */
  OVERLAY_IDLE_TIMEOUT_MS: integer(30_000, 1_000, 3_600_000),
  /** Overlay: the peer's requests handled at once; past it a request is answered 429. */
  OVERLAY_PEER_INFLIGHT: integer(32, 1, 1_024),
  /** Overlay: frames per second a peer may send (token bucket, burst equal to the rate). */
  OVERLAY_PEER_RPS: integer(200, 1, 100_000),
  /** Overlay: data frames sent to a peer and not yet acknowledged (credit window). */
  OVERLAY_SEND_WINDOW: integer(32, 1, 1_024),
  /** Overlay: payload bytes per chunk frame of an object fetch. */
  OVERLAY_CHUNK_BYTES: integer(64 * KIB, 1 * KIB, 1 * MIB - 1 * KIB),
  /** Overlay: largest frame either side may send (the wire format caps it at 1 MiB). */
  OVERLAY_MAX_FRAME_BYTES: integer(1 * MIB, 4 * KIB, 1 * MIB),
  /** Overlay: largest object a session fetch serves; larger ones are answered 413. */
  OVERLAY_FETCH_MAX_BYTES: integer(16 * MIB, 0, 100 * MIB),
  /** Overlay: sessions per isolate; past it upgrades get 503 and /readyz reports `overlay_sessions`. */
  OVERLAY_MAX_SESSIONS: integer(10_000, 1, 1_000_000),
  /** Overlay: open sessions of one client (CF-Connecting-IP, locally one shared key) per isolate; past it upgrades get 429. */
  OVERLAY_MAX_SESSIONS_PER_CLIENT: integer(16, 1, 100_000),
  /** Gossip: peers each relay step forwards a message to (the tree's branching factor). */
  OVERLAY_GOSSIP_FANOUT: integer(3, 1, 16),
  /** Gossip: how long a message lives; it is deduplicated by id for as long. */
  OVERLAY_GOSSIP_TTL_MS: integer(30_000, 100, 3_600_000),
  /** Gossip: relay steps a message may take before it is dropped (reason `ttl`). */
  OVERLAY_GOSSIP_MAX_HOPS: integer(8, 1, 32),
  /** Gossip: subscribers per topic; past it subscribing gets 429. */
  OVERLAY_GOSSIP_MAX_SUBSCRIBERS: integer(10_000, 1, 1_000_000),
  /** Gossip: how long a subscriber's deliveries must keep being skipped (no credit) before it is evicted from the topic. */
  OVERLAY_GOSSIP_EVICT_AFTER_MS: integer(2_000, 0, 60_000),
  /** Least severe log line written: debug (adds one line per request), info, warn or error. */
  LOG_LEVEL: z._default(z.enum(["debug", "info", "warn", "error"], { error: "must be debug, info, warn or error" }), "info"),
  /** Sentry DSN; unset means nothing is ever sent. */
  SENTRY_DSN: z.preprocess(
    (value) => (value === "" ? undefined : value),
    z.optional(z.url({ error: "must be a Sentry DSN URL" })),
  ),
  /** Environment name attached to Sentry events. */
  SENTRY_ENVIRONMENT: optionalText,
  /** Build identity shown by /version (the start script and CI set these). */
  BUILD_GIT_SHA: optionalText,
  BUILD_TIME: optionalText,
}).check(z.superRefine((c, ctx) => {
  // Cloudflare's cache keeps what it is given on the data centre's disks: AMNESIA's RAM-only promise would not hold.
  if (c.AMNESIA && c.CACHE_OBJECTS === true) {
    ctx.addIssue({ code: "custom", path: ["CACHE_OBJECTS"], message: "must be false or unset while AMNESIA is on: the Cache API keeps object bytes outside RAM" });
  }
  // A signature timestamp is accepted from WEBHOOK_TOLERANCE_S before to as long after it is due,
  // so a captured delivery can be replayed for twice the tolerance: dedupe must remember it as long.
  if (c.MAILBOX_DEDUPE_S < 2 * c.WEBHOOK_TOLERANCE_S) {
    ctx.addIssue({
      code: "custom",
      path: ["MAILBOX_DEDUPE_S"],
      message: `must be at least twice WEBHOOK_TOLERANCE_S (${2 * c.WEBHOOK_TOLERANCE_S}), so a replayed webhook is still a duplicate while its signature is accepted`,
    });
  }
}));

export type Config = z.infer<typeof configSchema>;

/** Whether content-addressed reads go through the Cache API: `CACHE_OBJECTS`, by default on exactly when objects persist (not AMNESIA). */
export const cachesObjects = (config: Config): boolean => config.CACHE_OBJECTS ?? !config.AMNESIA;

/** The knobs as they arrive: strings from vars/secrets, sometimes numbers or booleans from wrangler.toml. */
export type ConfigEnv = { [K in keyof Config]?: string | number | boolean };

export type ConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] };

/** Names of every knob, for the start script and the docs check. */
export const CONFIG_KEYS = Object.keys(configSchema.shape) as (keyof Config)[];

/** Knobs whose values must never appear in logs or responses. */
const SECRET_KEYS = new Set<string>([
  "SENTRY_DSN",
  "CAP_ROOT_KEY",
  "CAP_ROOT_KEY_PREVIOUS",
  "GITHUB_WEBHOOK_SECRET",
  "GITHUB_WEBHOOK_SECRET_PREVIOUS",
  "STRIPE_WEBHOOK_SECRET",
  "STRIPE_WEBHOOK_SECRET_PREVIOUS",
  "SLACK_SIGNING_SECRET",
  "SLACK_SIGNING_SECRET_PREVIOUS",
]);

export function parseConfig(env: ConfigEnv): ConfigResult {
  const input: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) input[key] = env[key];
  const parsed = configSchema.safeParse(input);
  if (parsed.success) return { ok: true, config: parsed.data };
  const errors = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? "config");
    const shown = SECRET_KEYS.has(name) ? "a value that is not shown" : JSON.stringify(input[name]);
    return `${name}: ${issue.message} (got ${shown})`;
  });
  return { ok: false, errors };
}

/**
 * Some knobs parsed on their own, for the ops surface while the whole configuration is invalid
 * (e.g. /metrics still needs to know whether it is public and which root key signs tokens).
 * A knob that doesn't parse is left out.
 */
export function parseKnobs<K extends keyof Config>(env: ConfigEnv, keys: readonly K[]): Partial<Pick<Config, K>> {
  const out: Partial<Pick<Config, K>> = {};
  for (const key of keys) {
    const parsed = configSchema.shape[key].safeParse(env[key]);
    if (parsed.success) out[key] = parsed.data as Config[K];
  }
  return out;
}

// The env object is stable for the life of an isolate, so parse once per env object.
const cache = new WeakMap<object, ConfigResult>();

export function loadConfig(env: ConfigEnv): ConfigResult {
  let result = cache.get(env);
  if (!result) {
    result = parseConfig(env);
    if (!result.ok) log.error({}, "invalid configuration", { errors: result.errors.join("; ") });
    cache.set(env, result);
  }
  return result;
}
