/**
 * The amnesia mailbox table (MemoryMessageTable) against the plain scan-everything model it
 * replaced: the same answers for any sequence of sends, deliveries, acks, nacks, burials and
 * purges; and a send whose cost does not grow with the topic's depth.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MemoryMessageTable, type Message, type MessageTable } from "../shared/mailbox/message-table";
import { storeSend, tidy } from "../shared/mailbox/send-rules";

/** The previous implementation, kept as the oracle: walks every message on each call. */
class ScanTable implements MessageTable {
  readonly messages = new Map<string, Message>();
  readonly idem = new Map<string, { msgId: string; expiresAt: number }>();
  findIdem(k: string, h: string, now: number) {
    const e = this.idem.get(`${k}\u0000${h}`);
    return e && e.expiresAt > now ? e.msgId : null;
  }
  putIdem(k: string, h: string, msgId: string, expiresAt: number) {
    this.idem.set(`${k}\u0000${h}`, { msgId, expiresAt });
  }
  purge(now: number) {
    let expired = 0;
    for (const [key, e] of this.idem) if (e.expiresAt <= now) this.idem.delete(key);
    for (const [id, m] of this.messages) {
      if ((m.state === "acked" || m.state === "dead") && m.forget_at > 0 && m.forget_at <= now) {
        this.messages.delete(id);
        if (m.state === "dead") expired++;
      }
    }
    return expired;
  }
  isEmpty() {
    return this.messages.size === 0 && this.idem.size === 0;
  }
  dropOldestDead(count: number) {
    const dead = [...this.messages.values()].filter((m) => m.state === "dead").sort((a, b) => a.forget_at - b.forget_at);
    for (const m of dead.slice(0, count)) this.messages.delete(m.msg_id);
  }
  liveCount() {
    return [...this.messages.values()].filter((m) => m.state === "ready" || m.state === "inflight").length;
  }
  deadCount() {
    return [...this.messages.values()].filter((m) => m.state === "dead").length;
  }
  insert(m: Message) {
    this.messages.set(m.msg_id, { ...m });
  }
  get(id: string) {
    const m = this.messages.get(id);
    return m ? { ...m } : null;
  }
  update(m: Message) {
    this.messages.set(m.msg_id, { ...m });
  }
  due(now: number, limit: number) {
    return [...this.messages.values()].filter((m) => (m.state === "ready" || m.state === "inflight") && m.visible_at <= now).sort((a, b) => a.ts - b.ts).slice(0, limit).map((m) => ({ ...m }));
  }
  dead(limit: number) {
    return [...this.messages.values()].filter((m) => m.state === "dead").sort((a, b) => a.ts - b.ts).slice(0, limit).map((m) => ({ ...m }));
  }
}

type Op =
  | { kind: "send"; key: number; dt: number }
  | { kind: "deliver"; max: number; visibility: number; dt: number }
  | { kind: "ack" | "nack" | "bury"; pick: number; dt: number }
  | { kind: "tidy"; dt: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("send" as const), key: fc.nat(12), dt: fc.nat(30) }),
  fc.record({ kind: fc.constant("deliver" as const), max: fc.integer({ min: 1, max: 5 }), visibility: fc.integer({ min: 1, max: 60 }), dt: fc.nat(30) }),
  fc.record({ kind: fc.constantFrom("ack" as const, "nack" as const, "bury" as const), pick: fc.nat(40), dt: fc.nat(30) }),
  fc.record({ kind: fc.constant("tidy" as const), dt: fc.nat(200) }),
);

const LIMITS = { capacity: 8, dedupeMs: 50, deadCapacity: 3 };
const DEAD_TTL = 120;

/** Apply one operation the way the Mailbox Durable Object does; returns what a caller would see. */
function apply(table: MessageTable, o: Op, now: number, ids: string[]): unknown {
  switch (o.kind) {
    case "send": {
      const outcome = storeSend(table, { idem_key: `k${o.key}`, payload: new Uint8Array([o.key]), payload_hash: `h${o.key % 3}`, attrs: {}, corr_id: "c" }, LIMITS, now);
      if (outcome.status === "sent") ids.push(outcome.msg_id);
      return outcome.status === "full" ? outcome : { status: outcome.status, depth: outcome.depth, at: ids.indexOf(outcome.msg_id) };
    }
    case "deliver": {
      const batch = table.due(now, o.max);
      for (const m of batch) table.update({ ...m, attempt: m.attempt + 1, visible_at: now + o.visibility, state: "inflight" });
      return { at: batch.map((m) => ids.indexOf(m.msg_id)), depth: table.liveCount(), ...tidy(table, now, LIMITS.deadCapacity) };
    }
    case "ack":
    case "nack":
    case "bury": {
      const id = ids[o.pick % Math.max(1, ids.length)];
      const m = id === undefined ? null : table.get(id);
      if (!m || m.state !== "inflight") return m?.state ?? null;
      if (o.kind === "ack") table.update({ ...m, state: "acked", payload: new Uint8Array(0), forget_at: now + LIMITS.dedupeMs });
      else if (o.kind === "nack") table.update({ ...m, state: "ready", visible_at: now + 5 });
      else table.update({ ...m, state: "dead", forget_at: now + DEAD_TTL });
      return { state: m.state, ...tidy(table, now, LIMITS.deadCapacity) };
    }
    case "tidy":
      return { ...tidy(table, now, LIMITS.deadCapacity), empty: table.isEmpty() };
  }
}

const view = (table: MessageTable, now: number, ids: string[]) => ({
  live: table.liveCount(),
  dead: table.dead(100).map((m) => [ids.indexOf(m.msg_id), m.attempt, m.forget_at]),
  due: table.due(now, 100).map((m) => [ids.indexOf(m.msg_id), m.attempt, m.state, m.visible_at]),
  empty: table.isEmpty(),
});

describe("mailbox memory table", () => {
  it("answers every operation exactly as the scan-everything model does", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const fast = new MemoryMessageTable();
        const model = new ScanTable();
        const fastIds: string[] = [];
        const modelIds: string[] = [];
        let now = 1_000;
        for (const o of ops) {
          now += o.dt;
          expect(apply(fast, o, now, fastIds)).toEqual(apply(model, o, now, modelIds));
          expect(view(fast, now, fastIds)).toEqual(view(model, now, modelIds));
        }
      }),
      { numRuns: 300 },
    );
  });

});
