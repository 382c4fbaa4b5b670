/**
 * @module A bounded hash chain held by a Durable Object (used by AuditLog for a shard's records and
 * for the anchor records). Each record's hash is BLAKE3(previous hash ‖ "\n" ‖ canonical record),
 * so changing, removing or reordering a kept record breaks the chain at that point. Past the
 * capacity the oldest record is dropped (counted when it had not reached R2) and the chain's
 * starting point (`anchor`) moves to it. Persistent: records are mirrored in Durable Object storage
 * and written to R2 in segments (`<prefix><first>-<last>.jsonl`); amnesia: isolate memory only.
 */
import { isolateMemory } from "../shared/isolate-memory";
import type { AuditLimits, ChainReport, Linked } from "../shared/audit-rpc";

export type { AuditLimits, ChainReport, Linked } from "../shared/audit-rpc";

export interface ChainMeta {
  nextSeq: number;
  lastHash: string;
  /** `prev` of the oldest kept record. */
  anchor: string;
  flushedThrough: number;
  dropped: number;
  /** R2 key prefix of this chain's segments (kept so an alarm after a restart knows it). */
  segmentPrefix: string;
}

export interface ChainSpec<R extends Linked> {
  /** Isolate-memory kind; also the storage key prefix of records (`<name>:rec:`) and meta (`<name>:meta`). */
  name: string;
  segmentPrefix: string;
  /** The record's hash given its predecessor's; `hash` (and `prev`, passed separately) are not part of the record's bytes. */
  digest(prev: string, record: Omit<R, "prev" | "hash">): string;
}

export const GENESIS = "0".repeat(64);
const pad = (seq: number) => String(seq).padStart(12, "0");

export class BoundedChain<R extends Linked> {
  /** Kept records, oldest first. Not `#private`: tests tamper with them. */
  records: R[] = [];
  meta: ChainMeta;
  #loaded = false;
  limits: AuditLimits | null = null;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly bucket: R2Bucket,
    private readonly spec: ChainSpec<R>,
  ) {
    this.meta = { nextSeq: 1, lastHash: GENESIS, anchor: GENESIS, flushedThrough: 0, dropped: 0, segmentPrefix: spec.segmentPrefix };
  }

  get #recordPrefix(): string {
    return `${this.spec.name}:rec:`;
  }
  get #metaKey(): string {
    return `${this.spec.name}:meta`;
  }
  #recordKey(seq: number): string {
    return `${this.#recordPrefix}${pad(seq)}`;
  }

  async load(limits: AuditLimits): Promise<void> {
    this.limits = limits;
    if (this.#loaded) return;
    this.#loaded = true;
    if (!limits.persistent) {
      // amnesia: the chain lives in isolate memory, so an idle eviction does not reset it
      const held = isolateMemory(this.ctx, this.spec.name, () => ({ records: this.records, meta: this.meta }));
      this.records = held.records;
      this.meta = held.meta;
      return;
    }
    const meta = await this.ctx.storage.get<ChainMeta>(this.#metaKey);
    if (meta) this.meta = meta;
    const stored = await this.ctx.storage.list<R>({ prefix: this.#recordPrefix });
    this.records = [...stored.values()].sort((a, b) => a.seq - b.seq);
  }

  /** Whether persistent storage holds this chain (an alarm after a restart checks before loading it). */
  async stored(): Promise<boolean> {
    return (await this.ctx.storage.get(this.#metaKey)) !== undefined;
  }

  /**
   * Append records in order, chained one to the next, with one storage write (at most 127
   * records: a put takes 128 keys). Returns the first one's seq and how many old records were
   * dropped, before reaching R2, to make room.
   */
  async append(bodies: Omit<R, "seq" | "prev" | "hash">[], limits: AuditLimits): Promise<{ first_seq: number; dropped: number }> {
    await this.load(limits);
    const firstSeq = this.meta.nextSeq;
    const added: Record<string, R> = {};
    for (const body of bodies) {
      const seq = this.meta.nextSeq;
      const prev = this.meta.lastHash;
      const unhashed = { seq, ...body } as Omit<R, "prev" | "hash">;
      const record = { ...unhashed, prev, hash: this.spec.digest(prev, unhashed) } as R;
      this.records.push(record);
      added[this.#recordKey(seq)] = record;
      this.meta.nextSeq = seq + 1;
      this.meta.lastHash = record.hash;
    }
    const removed: R[] = [];
    let dropped = 0;
    while (this.records.length > limits.capacity) {
      const oldest = this.records.shift()!;
      removed.push(oldest);
      if (oldest.seq > this.meta.flushedThrough) dropped++; // lost before reaching R2
      this.meta.anchor = oldest.hash;
    }
    this.meta.dropped += dropped;
    if (limits.persistent) {
      // a record added and dropped in the same batch is never written
      for (const r of removed) delete added[this.#recordKey(r.seq)];
      await this.ctx.storage.put({ ...added, [this.#metaKey]: this.meta });
      const stale = removed.filter((r) => r.seq < firstSeq).map((r) => this.#recordKey(r.seq));
      for (let at = 0; at < stale.length; at += 128) await this.ctx.storage.delete(stale.slice(at, at + 128));
      if (this.records.filter((r) => r.seq > this.meta.flushedThrough).length >= limits.flushRecords) await this.flush();
    }
    return { first_seq: firstSeq, dropped };
  }

  /** Records not yet in R2 (persistent mode). */
  pending(): number {
    return this.records.filter((r) => r.seq > this.meta.flushedThrough).length;
  }

  /** Write the records not yet in R2 as one segment. */
  async flush(): Promise<number> {
    if (!this.limits?.persistent) return 0;
    const pending = this.records.filter((r) => r.seq > this.meta.flushedThrough);
    if (pending.length === 0) return 0;
    const first = pending[0]!.seq;
    const last = pending[pending.length - 1]!.seq;
    const key = `${this.meta.segmentPrefix}${pad(first)}-${pad(last)}.jsonl`;
    await this.bucket.put(key, pending.map((r) => JSON.stringify(r)).join("\n") + "\n", { httpMetadata: { contentType: "application/x-ndjson" } });
    this.meta.flushedThrough = last;
    await this.ctx.storage.put(this.#metaKey, this.meta);
    return pending.length;
  }

  /** The newest record's seq and hash; null before the first append. */
  head(): { seq: number; hash: string } | null {
    return this.meta.nextSeq === 1 ? null : { seq: this.meta.nextSeq - 1, hash: this.meta.lastHash };
  }

  /** Recompute the chain over the kept records; `valid` adds a check of each record's contents. */
  verify(valid: (record: R) => boolean = () => true): ChainReport {
    let prev = this.meta.anchor;
    let broken: number | undefined;
    for (const r of this.records) {
      if (r.prev !== prev || !valid(r) || this.spec.digest(prev, withoutLinks(r)) !== r.hash) {
        broken = r.seq;
        break;
      }
      prev = r.hash;
    }
    if (broken === undefined && this.records.length > 0 && prev !== this.meta.lastHash) broken = this.records[this.records.length - 1]!.seq;
    return {
      ok: broken === undefined,
      records: this.records.length,
      first_seq: this.records[0]?.seq ?? null,
      last_seq: this.records[this.records.length - 1]?.seq ?? null,
      ...(broken === undefined ? {} : { broken_at_seq: broken }),
      flushed_through_seq: this.meta.flushedThrough,
      dropped: this.meta.dropped,
    };
  }

  /**
   * The hash this chain holds for `seq`: a kept record's, or the starting point's for the record
   * just before the oldest kept one; `undefined` when it was dropped longer ago (cannot be
   * checked); `null` when the chain never reached `seq` or lost it (it should hold it).
   */
  hashAt(seq: number): string | null | undefined {
    const first = this.records[0]?.seq ?? this.meta.nextSeq;
    if (seq >= this.meta.nextSeq) return null;
    if (seq >= first) return this.records[seq - first]?.seq === seq ? this.records[seq - first]!.hash : null;
    if (seq === first - 1) return this.meta.anchor;
    return undefined;
  }
}

function withoutLinks<R extends Linked>(record: R): Omit<R, "prev" | "hash"> {
  const { prev: _prev, hash: _hash, ...rest } = record;
  return rest;
}
