/**
 * @module AuditLog: an append-only, hash-chained record of decisions (webhook allow/deny, PUTs).
 * Each record's hash is BLAKE3(previous hash ‖ canonical record), so changing, removing or
 * reordering a kept record breaks the chain at that point. Bounded: past the capacity the oldest
 * record is dropped (counted), and the chain's anchor moves to it. Outside amnesia, records are
 * also written to R2 in segments (`audit/<first>-<last>.jsonl`) as they accumulate, and by an
 * alarm for a partial segment.
 */
import { DurableObject } from "cloudflare:workers";
import { isolateMemory } from "../shared/isolate-memory";
import { blake3 } from "../shared/blake3";

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

export interface AuditRecord extends AuditInput {
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
  /** First record whose hash or link does not match. */
  broken_at_seq?: number;
  flushed_through_seq: number;
  dropped: number;
}

interface Meta {
  nextSeq: number;
  lastHash: string;
  /** `prev` of the oldest kept record. */
  anchor: string;
  flushedThrough: number;
  dropped: number;
}

const GENESIS = "0".repeat(64);
const recordKey = (seq: number) => `rec:${String(seq).padStart(12, "0")}`;
const FLUSH_DELAY_MS = 30_000;
const SEGMENT_PREFIX = "audit/";

/** Canonical bytes of a record for hashing: fixed field order, no `hash`; `suppressed` last, only when present. */
export function recordDigest(prev: string, r: AuditInput & { seq: number }): string {
  const fields: unknown[] = [r.seq, r.when, r.corr_id, r.provider, r.decision, r.reason, r.b3, r.route];
  if (r.suppressed !== undefined) fields.push(r.suppressed);
  const canonical = JSON.stringify(fields);
  return blake3().hashHex(new TextEncoder().encode(`${prev}\n${canonical}`));
}

export interface AuditEnv {
  OBJECTS: R2Bucket;
}

export class AuditLog extends DurableObject<AuditEnv> {
  /** Kept records, oldest first (mirrored in storage when persistent). Not `#private`: tests tamper with it. */
  protected records: AuditRecord[] = [];
  protected meta: Meta = { nextSeq: 1, lastHash: GENESIS, anchor: GENESIS, flushedThrough: 0, dropped: 0 };
  #loaded = false;
  #limits: AuditLimits | null = null;

  async #load(limits: AuditLimits): Promise<void> {
    this.#limits = limits;
    if (this.#loaded) return;
    this.#loaded = true;
    if (!limits.persistent) {
      // amnesia: the chain lives in isolate memory, so an idle eviction does not reset it
      const held = isolateMemory(this.ctx, "audit-log", () => ({ records: this.records, meta: this.meta }));
      this.records = held.records;
      this.meta = held.meta;
      return;
    }
    const meta = await this.ctx.storage.get<Meta>("meta");
    if (meta) this.meta = meta;
    const stored = await this.ctx.storage.list<AuditRecord>({ prefix: "rec:" });
    this.records = [...stored.values()].sort((a, b) => a.seq - b.seq);
  }

  /** Append one record; returns its seq and how many old records were dropped to make room. */
  async append(input: AuditInput, limits: AuditLimits): Promise<{ seq: number; dropped: number }> {
    const { first_seq, dropped } = await this.appendMany([input], limits);
    return { seq: first_seq, dropped };
  }

  /**
   * Append records in order, chained one to the next, with one storage write (at most 127
   * records: a put takes 128 keys). Returns the first one's seq and how many old records were
   * dropped to make room.
   */
  async appendMany(inputs: AuditInput[], limits: AuditLimits): Promise<{ first_seq: number; dropped: number }> {
    await this.#load(limits);
    const firstSeq = this.meta.nextSeq;
    const added: Record<string, AuditRecord> = {};
    for (const input of inputs) {
      const seq = this.meta.nextSeq;
      const prev = this.meta.lastHash;
      const record: AuditRecord = { ...input, seq, prev, hash: recordDigest(prev, { ...input, seq }) };
      this.records.push(record);
      added[recordKey(seq)] = record;
      this.meta.nextSeq = seq + 1;
      this.meta.lastHash = record.hash;
    }
    const removed: AuditRecord[] = [];
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
      for (const r of removed) delete added[recordKey(r.seq)];
      await this.ctx.storage.put({ ...added, meta: this.meta });
      const stale = removed.filter((r) => r.seq < firstSeq).map((r) => recordKey(r.seq));
      for (let at = 0; at < stale.length; at += 128) await this.ctx.storage.delete(stale.slice(at, at + 128));
      if (this.records.filter((r) => r.seq > this.meta.flushedThrough).length >= limits.flushRecords) await this.flush();
      else if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + FLUSH_DELAY_MS);
    }
    return { first_seq: firstSeq, dropped };
  }

  /** Write the records not yet in R2 as one segment. */
  async flush(): Promise<number> {
    if (!this.#limits?.persistent) return 0;
    const pending = this.records.filter((r) => r.seq > this.meta.flushedThrough);
    if (pending.length === 0) return 0;
    const first = pending[0]!.seq;
    const last = pending[pending.length - 1]!.seq;
    const key = `${SEGMENT_PREFIX}${String(first).padStart(12, "0")}-${String(last).padStart(12, "0")}.jsonl`;
    await this.env.OBJECTS.put(key, pending.map((r) => JSON.stringify(r)).join("\n") + "\n", { httpMetadata: { contentType: "application/x-ndjson" } });
    this.meta.flushedThrough = last;
    await this.ctx.storage.put("meta", this.meta);
    return pending.length;
  }

  override async alarm(): Promise<void> {
    if (!this.#limits) {
      // woken after a restart: reload what was kept before flushing it
      await this.#load({ persistent: true, capacity: Number.MAX_SAFE_INTEGER, flushRecords: Number.MAX_SAFE_INTEGER });
    }
    await this.flush();
  }

  /** Recompute the chain over the kept records. */
  async verify(limits: AuditLimits): Promise<ChainReport> {
    await this.#load(limits);
    let prev = this.meta.anchor;
    let broken: number | undefined;
    for (const r of this.records) {
      if (r.prev !== prev || recordDigest(prev, r) !== r.hash) {
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

  async recent(limit: number, limits: AuditLimits): Promise<AuditRecord[]> {
    await this.#load(limits);
    return this.records.slice(-limit);
  }
}
