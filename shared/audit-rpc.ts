/**
 * @module The AuditLog Durable Object's RPC contract (durable-objects/audit-log.ts implements it):
 * the records, reports and object names the worker's side (audit.ts, audit-read.ts) uses. Shard
 * n's chain lives in the object named `shardName(n)`, the anchor chain in `ANCHORS_NAME`.
 */

export interface Linked {
  seq: number;
  prev: string;
  hash: string;
}

export interface AuditLimits {
  persistent: boolean;
  capacity: number;
  flushRecords: number;
}

export interface ChainReport {
  ok: boolean;
  records: number;
  first_seq: number | null;
  last_seq: number | null;
  /** First record whose hash, link or contents do not match. */
  broken_at_seq?: number;
  flushed_through_seq: number;
  dropped: number;
}

export interface AuditInput {
  when: string;
  corr_id: string;
  provider: string | null;
  decision: "allow" | "deny";
  reason: string | null;
  b3: string | null;
  route: string;
  /** On a sampled denial: how many like it were counted but not recorded since the previous record. */
  suppressed?: number;
}

export interface AuditRecord extends AuditInput, Linked {
  /** The shard whose chain holds the record (part of its hashed bytes). */
  shard: number;
}

export interface ShardHead {
  shard: number;
  seq: number;
  hash: string;
}

export interface AnchorRecord extends Linked {
  when: string;
  /** Every shard's newest record when the anchor was taken (shards with no records are left out), by shard. */
  heads: ShardHead[];
}

/** A head some kept anchor recorded: the first anchor that recorded it. */
export interface AnchoredHead extends ShardHead {
  anchor_seq: number;
}

export interface ShardReport extends ChainReport {
  /** Anchored seqs whose hash this shard does not hold (any more). */
  mismatched_seqs: number[];
}

export interface AnchorsReport extends ChainReport {
  /** Every distinct (shard, seq) the kept anchors recorded. */
  heads: AnchoredHead[];
}

export const shardName = (shard: number) => `audit-${shard}`;
export const ANCHORS_NAME = "audit-anchors";

export interface AuditLogRpc extends Rpc.DurableObjectBranded {
  /** Append records to shard `shard`, in order; the first one's seq and how many old records were dropped to make room. */
  appendMany(shard: number, inputs: AuditInput[], limits: AuditLimits): Promise<{ first_seq: number; dropped: number }>;
  head(shard: number, limits: AuditLimits): Promise<ShardHead | null>;
  /** Recompute shard `shard`'s chain, and check that it still holds each anchored head within its kept records. */
  verify(shard: number, limits: AuditLimits, anchored?: { seq: number; hash: string }[]): Promise<ShardReport>;
  recent(shard: number, limit: number, limits: AuditLimits): Promise<AuditRecord[]>;
  /** On `ANCHORS_NAME`: anchor the shards' heads when any moved, at most once per `minIntervalMs`. */
  anchor(shards: number, limits: AuditLimits, minIntervalMs: number): Promise<AnchorRecord | null>;
  /** On `ANCHORS_NAME`: recompute the anchor chain; list the heads its kept records anchored. */
  verifyAnchors(limits: AuditLimits): Promise<AnchorsReport>;
}
