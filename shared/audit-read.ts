/**
 * @module Reading the sharded audit log: verify every shard's chain and the anchor chain (and
 * that each shard still holds the heads the anchors recorded), and the newest records over all
 * shards, merged by time.
 */
import type { AnchoredHead, AuditRecord, ChainReport } from "./audit-rpc";
import { auditAnchorsStub, auditLimits, auditShardStub, auditShards, type AuditContext } from "./audit";

export interface ShardVerdict extends ChainReport {
  shard: number;
}

export interface AnchorsVerdict {
  ok: boolean;
  records: number;
  last_seq: number | null;
  broken_at_seq?: number;
  /** Anchored heads a shard does not hold (any more), each named by the first anchor that recorded it. */
  mismatched: { anchor_seq: number; shard: number; seq: number }[];
}

export interface AuditVerdict {
  ok: boolean;
  records: number;
  dropped: number;
  shards: ShardVerdict[];
  anchors: AnchorsVerdict;
}

export async function verifyAudit(rc: AuditContext): Promise<AuditVerdict> {
  const limits = auditLimits(rc);
  const shards = auditShards(rc);
  // anchors first: heads anchored after this read are not checked, none is checked twice
  const anchors = await auditAnchorsStub(rc).verifyAnchors(limits);
  const anchoredBy = new Map<number, AnchoredHead[]>();
  for (const head of anchors.heads) if (head.shard < shards) anchoredBy.set(head.shard, [...(anchoredBy.get(head.shard) ?? []), head]);
  const reports = await Promise.all(
    Array.from({ length: shards }, (_, shard) => auditShardStub(rc, shard).verify(shard, limits, (anchoredBy.get(shard) ?? []).map(({ seq, hash }) => ({ seq, hash })))),
  );
  const mismatched: AnchorsVerdict["mismatched"] = [];
  const verdicts = reports.map(({ mismatched_seqs, ...report }, shard): ShardVerdict => {
    for (const seq of mismatched_seqs) {
      const head = anchoredBy.get(shard)!.find((h) => h.seq === seq)!;
      mismatched.push({ anchor_seq: head.anchor_seq, shard, seq });
    }
    const { ok, records, first_seq, last_seq, flushed_through_seq, dropped, broken_at_seq } = report;
    return { shard, ok, records, first_seq, last_seq, flushed_through_seq, dropped, ...(broken_at_seq === undefined ? {} : { broken_at_seq }) };
  });
  const anchorsVerdict: AnchorsVerdict = {
    ok: anchors.ok && mismatched.length === 0,
    records: anchors.records,
    last_seq: anchors.last_seq,
    ...(anchors.broken_at_seq === undefined ? {} : { broken_at_seq: anchors.broken_at_seq }),
    mismatched,
  };
  return {
    ok: anchorsVerdict.ok && verdicts.every((v) => v.ok),
    records: verdicts.reduce((sum, v) => sum + v.records, 0),
    dropped: verdicts.reduce((sum, v) => sum + v.dropped, 0),
    shards: verdicts,
    anchors: anchorsVerdict,
  };
}

/** The newest `limit` records over all shards, oldest first (by time, then shard and seq). */
export async function newestAuditRecords(rc: AuditContext, limit: number): Promise<AuditRecord[]> {
  const limits = auditLimits(rc);
  const perShard = await Promise.all(Array.from({ length: auditShards(rc) }, (_, shard) => auditShardStub(rc, shard).recent(shard, limit, limits)));
  const merged = perShard.flat().sort((a, b) => (a.when < b.when ? -1 : a.when > b.when ? 1 : a.shard - b.shard || a.seq - b.seq));
  return merged.slice(-limit);
}
