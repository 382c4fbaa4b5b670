/**
 * @module AuditLog: append-only, hash-chained records of decisions (webhook allow/deny, PUTs),
 * sharded so no single object is on the hot path. An instance named `audit-<n>` holds shard n's
 * chain; the instance named `audit-anchors` holds the anchor chain: periodic records of every
 * shard's head (seq and hash), chained the same way, so rewriting a shard's whole chain
 * consistently still disagrees with what was anchored. Chains are bounded (audit-chain.ts).
 * Outside amnesia, records also go to R2 in segments (`audit/<n>/…`, `audit/anchors/…`), by an
 * alarm for a partial segment; in amnesia nothing reaches storage and no alarm is set.
 */
import { DurableObject } from "cloudflare:workers";
import { blake3 } from "../shared/blake3";
import { BoundedChain } from "./audit-chain";
import { ANCHORS_NAME, shardName, type AnchoredHead, type AnchorRecord, type AnchorsReport, type AuditInput, type AuditLimits, type AuditLogRpc, type AuditRecord, type Linked, type ShardHead, type ShardReport } from "../shared/audit-rpc";

export { ANCHORS_NAME, shardName } from "../shared/audit-rpc";
export type { AnchoredHead, AnchorRecord, AnchorsReport, AuditInput, AuditLimits, AuditRecord, ChainReport, ShardHead, ShardReport } from "../shared/audit-rpc";

const hashHex = (prev: string, canonical: unknown[]) => blake3().hashHex(new TextEncoder().encode(`${prev}\n${JSON.stringify(canonical)}`));

/** Canonical bytes of a record: a JSON array in fixed field order, no `prev`/`hash`; `suppressed` last, only when present. */
export function recordDigest(prev: string, r: Omit<AuditRecord, "prev" | "hash">): string {
  const fields: unknown[] = [r.seq, r.shard, r.when, r.corr_id, r.provider, r.decision, r.reason, r.b3, r.route];
  if (r.suppressed !== undefined) fields.push(r.suppressed);
  return hashHex(prev, fields);
}

/** Canonical bytes of an anchor: `[seq, when, [[shard, seq, hash], …]]`. */
export function anchorDigest(prev: string, a: Omit<AnchorRecord, "prev" | "hash">): string {
  return hashHex(prev, [a.seq, a.when, a.heads.map((h) => [h.shard, h.seq, h.hash])]);
}

export interface AuditEnv {
  OBJECTS: R2Bucket;
  AUDIT_LOG: DurableObjectNamespace<AuditLog>;
}

const FLUSH_DELAY_MS = 30_000;
const SHARD_CHAIN = "audit-log";
const ANCHOR_CHAIN = "audit-anchors";
/** Limits used by an alarm after a restart: only to reload what was kept before flushing it. */
const RELOAD: AuditLimits = { persistent: true, capacity: Number.MAX_SAFE_INTEGER, flushRecords: Number.MAX_SAFE_INTEGER };

export class AuditLog extends DurableObject<AuditEnv> implements AuditLogRpc {
  /** This instance's chains (a shard's or the anchors'). Not `#private`: tests tamper with them. */
  protected shardChain: BoundedChain<AuditRecord> | null = null;
  protected anchorChain: BoundedChain<AnchorRecord> | null = null;
  #anchoring: Promise<AnchorRecord | null> | null = null;

  #shard(shard: number): BoundedChain<AuditRecord> {
    this.shardChain ??= new BoundedChain<AuditRecord>(this.ctx, this.env.OBJECTS, { name: SHARD_CHAIN, segmentPrefix: `audit/${shard}/`, digest: recordDigest });
    return this.shardChain;
  }

  #anchors(): BoundedChain<AnchorRecord> {
    this.anchorChain ??= new BoundedChain<AnchorRecord>(this.ctx, this.env.OBJECTS, { name: ANCHOR_CHAIN, segmentPrefix: "audit/anchors/", digest: anchorDigest });
    return this.anchorChain;
  }

  /** After a persistent append: flush a partial segment later if nothing else does. */
  async #scheduleFlush(chain: BoundedChain<Linked>, limits: AuditLimits): Promise<void> {
    if (limits.persistent && chain.pending() > 0 && (await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + FLUSH_DELAY_MS);
  }

  /**
   * Append records to shard `shard`, in order, chained one to the next, with one storage write
   * (at most 127 records). Returns the first one's seq and how many old records were dropped,
   * before reaching R2, to make room.
   */
  async appendMany(shard: number, inputs: AuditInput[], limits: AuditLimits): Promise<{ first_seq: number; dropped: number }> {
    const chain = this.#shard(shard);
    // fields in their documented order (docs/API.md), whatever order the caller built them in
    const bodies = inputs.map(({ when, corr_id, provider, decision, reason, b3, route, suppressed }) => ({ shard, when, corr_id, provider, decision, reason, b3, route, ...(suppressed === undefined ? {} : { suppressed }) }));
    const result = await chain.append(bodies, limits);
    await this.#scheduleFlush(chain, limits);
    return result;
  }

  async head(shard: number, limits: AuditLimits): Promise<ShardHead | null> {
    const chain = this.#shard(shard);
    await chain.load(limits);
    const head = chain.head();
    return head && { shard, ...head };
  }

  /** Recompute shard `shard`'s chain, and check that it still holds each anchored head that is within its kept records. */
  async verify(shard: number, limits: AuditLimits, anchored: { seq: number; hash: string }[] = []): Promise<ShardReport> {
    const chain = this.#shard(shard);
    await chain.load(limits);
    const report = chain.verify((r) => r.shard === shard);
    const mismatched = anchored.filter((a) => {
      const held = chain.hashAt(a.seq);
      return held !== undefined && held !== a.hash;
    });
    return { ...report, mismatched_seqs: mismatched.map((a) => a.seq) };
  }

  async recent(shard: number, limit: number, limits: AuditLimits): Promise<AuditRecord[]> {
    const chain = this.#shard(shard);
    await chain.load(limits);
    return chain.records.slice(-limit);
  }

  /**
   * On `audit-anchors`: read shards 0…shards-1's heads and append an anchor when any head moved
   * since the last one, at most once per `minIntervalMs`. Concurrent calls share one.
   */
  async anchor(shards: number, limits: AuditLimits, minIntervalMs: number): Promise<AnchorRecord | null> {
    this.#anchoring ??= this.#anchorOnce(shards, limits, minIntervalMs).finally(() => (this.#anchoring = null));
    return this.#anchoring;
  }

  async #anchorOnce(shards: number, limits: AuditLimits, minIntervalMs: number): Promise<AnchorRecord | null> {
    const chain = this.#anchors();
    await chain.load(limits);
    const last = chain.records[chain.records.length - 1];
    if (last && Date.now() - Date.parse(last.when) < minIntervalMs) return null;
    const namespace = this.env.AUDIT_LOG;
    const read = await Promise.all(
      Array.from({ length: shards }, async (_, shard): Promise<ShardHead | null> => {
        const head = await namespace.get(namespace.idFromName(shardName(shard))).head(shard, limits);
        return head && { shard: head.shard, seq: head.seq, hash: head.hash };
      }),
    );
    const heads = read.filter((h): h is ShardHead => h !== null);
    const moved = !last || heads.length !== last.heads.length || heads.some((h, i) => h.shard !== last.heads[i]!.shard || h.seq !== last.heads[i]!.seq || h.hash !== last.heads[i]!.hash);
    if (!moved) return null;
    await chain.append([{ when: new Date().toISOString(), heads }], limits);
    await this.#scheduleFlush(chain, limits);
    return chain.records[chain.records.length - 1]!;
  }

  /** On `audit-anchors`: recompute the anchor chain; list the heads its kept records anchored. */
  async verifyAnchors(limits: AuditLimits): Promise<AnchorsReport> {
    const chain = this.#anchors();
    await chain.load(limits);
    const heads = new Map<string, AnchoredHead>();
    for (const anchor of chain.records) {
      for (const h of anchor.heads) if (!heads.has(`${h.shard}:${h.seq}`)) heads.set(`${h.shard}:${h.seq}`, { ...h, anchor_seq: anchor.seq });
    }
    return { ...chain.verify(), heads: [...heads.values()] };
  }

  override async alarm(): Promise<void> {
    for (const chain of [this.shardChain, this.anchorChain]) if (chain?.limits) await chain.flush();
    if (this.shardChain?.limits || this.anchorChain?.limits) return;
    // woken after a restart: reload what storage kept (its meta knows the segment prefix) before flushing it
    const stored = [
      new BoundedChain<AuditRecord>(this.ctx, this.env.OBJECTS, { name: SHARD_CHAIN, segmentPrefix: "", digest: recordDigest }),
      new BoundedChain<AnchorRecord>(this.ctx, this.env.OBJECTS, { name: ANCHOR_CHAIN, segmentPrefix: "", digest: anchorDigest }),
    ];
    for (const chain of stored) {
      if (!(await chain.stored())) continue;
      await chain.load(RELOAD);
      await chain.flush();
    }
  }
}
