/**
 * @module Where a mailbox topic keeps its messages: in memory (amnesia) or in the Durable
 * Object's SQLite storage (persistent). One small synchronous interface, two strategies; the
 * queue rules live once, in the Mailbox Durable Object.
 */
import { MinHeap } from "./min-heap";

export type MessageState = "ready" | "inflight" | "dead" | "acked";

export interface Message {
  msg_id: string;
  ts: number;
  idem_key: string;
  payload: Uint8Array;
  payload_hash: string;
  attrs: Record<string, string>;
  corr_id: string;
  /** Deliveries so far. */
  attempt: number;
  /** Not deliverable before this time (ms since epoch). */
  visible_at: number;
  state: MessageState;
  /** When an acked message's tombstone, or a dead letter, is forgotten (ms; 0: never, for live ones). */
  forget_at: number;
}

export interface MessageTable {
  findIdem(idemKey: string, payloadHash: string, now: number): string | null;
  putIdem(idemKey: string, payloadHash: string, msgId: string, expiresAt: number): void;
  /** Forget expired dedupe entries, ack tombstones and dead letters; returns how many dead letters expired. */
  purge(now: number): number;
  /** Nothing left at all: no messages, tombstones, dead letters or dedupe entries. */
  isEmpty(): boolean;
  /** Forget the `count` dead letters that were dead-lettered first. */
  dropOldestDead(count: number): void;
  /** Messages waiting or in flight. */
  liveCount(): number;
  deadCount(): number;
  insert(message: Message): void;
  get(msgId: string): Message | null;
  update(message: Message): void;
  /** Ready or in-flight messages whose visibility has passed, oldest first. */
  due(now: number, limit: number): Message[];
  dead(limit: number): Message[];
}

/** A message as held in memory, with its insertion order (ties in every ordering go to the earlier). */
interface Held {
  message: Message;
  seq: number;
}

/** A queued expiry; stale once the thing it names changed or went (checked when it comes out). */
interface Expiry {
  at: number;
  seq: number;
  id: string;
}

interface IdemEntry {
  msgId: string;
  expiresAt: number;
}

const isLive = (state: MessageState | undefined) => state === "ready" || state === "inflight";
const expiresFirst = (a: Expiry, b: Expiry) => a.at < b.at || (a.at === b.at && a.seq < b.seq);

/**
 * Every per-send operation costs O(log n) or less, whatever the topic's depth: live and dead
 * counts are kept as messages change state, and what expires (dedupe entries, ack tombstones,
 * dead letters) waits in min-heaps ordered by expiry, so a purge looks only at what is due.
 */
export class MemoryMessageTable implements MessageTable {
  readonly #messages = new Map<string, Held>();
  readonly #idem = new Map<string, IdemEntry>();
  readonly #idemExpiry = new MinHeap<{ at: number; key: string; entry: IdemEntry }>((a, b) => a.at < b.at);
  readonly #ackedExpiry = new MinHeap<Expiry>(expiresFirst);
  /** Dead letters by (forget_at, insertion): expiry order and drop-oldest order at once. */
  readonly #deadOrder = new MinHeap<Expiry>(expiresFirst);
  /** Ready or in-flight messages, in insertion order while `#liveOrdered`. */
  readonly #live = new Map<string, Held>();
  readonly #dead = new Map<string, Held>();
  #nextSeq = 0;
  #lastTs = -Infinity;
  /** Whether `#live` iterates in (ts, insertion) order, so `due` can stop early. */
  #liveOrdered = true;

  findIdem(idemKey: string, payloadHash: string, now: number): string | null {
    const entry = this.#idem.get(`${idemKey}\u0000${payloadHash}`);
    return entry && entry.expiresAt > now ? entry.msgId : null;
  }
  putIdem(idemKey: string, payloadHash: string, msgId: string, expiresAt: number): void {
    const key = `${idemKey}\u0000${payloadHash}`;
    const entry = { msgId, expiresAt };
    this.#idem.set(key, entry);
    this.#idemExpiry.push({ at: expiresAt, key, entry });
  }
  purge(now: number): number {
    for (let top = this.#idemExpiry.peek(); top && top.at <= now; top = this.#idemExpiry.peek()) {
      this.#idemExpiry.pop();
      if (this.#idem.get(top.key) === top.entry) this.#idem.delete(top.key);
    }
    for (let top = this.#ackedExpiry.peek(); top && top.at <= now; top = this.#ackedExpiry.peek()) {
      this.#ackedExpiry.pop();
      if (this.#isCurrent(top, "acked")) this.#remove(top.id);
    }
    let expired = 0;
    for (let top = this.#deadOrder.peek(); top && top.at <= now; top = this.#deadOrder.peek()) {
      this.#deadOrder.pop();
      if (this.#isCurrent(top, "dead")) {
        this.#remove(top.id);
        expired++;
      }
    }
    return expired;
  }
  isEmpty(): boolean {
    return this.#messages.size === 0 && this.#idem.size === 0;
  }
  dropOldestDead(count: number): void {
    while (count > 0 && this.#deadOrder.size > 0) {
      const top = this.#deadOrder.pop()!;
      if (!this.#isCurrent(top, "dead")) continue;
      this.#remove(top.id);
      count--;
    }
  }
  liveCount(): number {
    return this.#live.size;
  }
  deadCount(): number {
    return this.#dead.size;
  }
  insert(message: Message): void {
    this.#store(message);
  }
  get(msgId: string): Message | null {
    const held = this.#messages.get(msgId);
    return held ? { ...held.message } : null;
  }
  update(message: Message): void {
    this.#store(message);
  }
  due(now: number, limit: number): Message[] {
    const out: Message[] = [];
    if (this.#liveOrdered) {
      for (const { message: m } of this.#live.values()) {
        if (out.length >= limit) break;
        if (m.visible_at <= now) out.push({ ...m });
      }
      return out;
    }
    const due = [...this.#live.values()].filter((h) => h.message.visible_at <= now).sort((a, b) => a.message.ts - b.message.ts || a.seq - b.seq);
    return due.slice(0, limit).map((h) => ({ ...h.message }));
  }
  dead(limit: number): Message[] {
    return [...this.#dead.values()].sort((a, b) => a.message.ts - b.message.ts || a.seq - b.seq).slice(0, limit).map((h) => ({ ...h.message }));
  }

  /** Insert or replace, moving the message between the live and dead sets and queueing its expiry. */
  #store(message: Message): void {
    const previous = this.#messages.get(message.msg_id);
    const held: Held = { message: { ...message }, seq: previous?.seq ?? this.#nextSeq++ };
    if (!previous) {
      if (message.ts < this.#lastTs) this.#liveOrdered = false;
      this.#lastTs = Math.max(this.#lastTs, message.ts);
    }
    this.#messages.set(message.msg_id, held);
    const wasLive = isLive(previous?.message.state);
    if (isLive(message.state)) {
      // a message coming back to life would join the end out of order
      if (!wasLive && previous) this.#liveOrdered = false;
      this.#live.set(message.msg_id, held);
    } else if (wasLive) this.#leaveLive(message.msg_id);
    if (message.state === "dead") this.#dead.set(message.msg_id, held);
    else this.#dead.delete(message.msg_id);
    const expiry = { at: message.forget_at, seq: held.seq, id: message.msg_id };
    if (message.forget_at > 0 && message.state === "acked") this.#ackedExpiry.push(expiry);
    // dead letters always have forget_at > 0 (their TTL is at least 1 s)
    const queued = previous?.message.state === "dead" && previous.message.forget_at === message.forget_at;
    if (message.state === "dead" && !queued) this.#deadOrder.push(expiry);
  }

  /** Whether a queued expiry still names the message as it is now. */
  #isCurrent(expiry: Expiry, state: MessageState): boolean {
    const m = this.#messages.get(expiry.id)?.message;
    return m !== undefined && m.state === state && m.forget_at === expiry.at && m.forget_at > 0;
  }

  #remove(id: string): void {
    this.#messages.delete(id);
    this.#leaveLive(id);
    this.#dead.delete(id);
  }

  #leaveLive(id: string): void {
    this.#live.delete(id);
    if (this.#live.size > 0) return;
    // nothing live: whatever comes next starts a fresh order
    this.#liveOrdered = true;
    this.#lastTs = -Infinity;
  }
}

type Row = Record<string, SqlStorageValue>;

const toMessage = (row: Row): Message => ({
  msg_id: row.msg_id as string,
  ts: row.ts as number,
  idem_key: row.idem_key as string,
  payload: new Uint8Array(row.payload as ArrayBuffer),
  payload_hash: row.payload_hash as string,
  attrs: JSON.parse(row.attrs as string),
  corr_id: row.corr_id as string,
  attempt: row.attempt as number,
  visible_at: row.visible_at as number,
  state: row.state as MessageState,
  forget_at: row.forget_at as number,
});

export class SqlMessageTable implements MessageTable {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS messages (
      msg_id TEXT PRIMARY KEY, ts INTEGER NOT NULL, idem_key TEXT NOT NULL, payload BLOB NOT NULL, payload_hash TEXT NOT NULL,
      attrs TEXT NOT NULL, corr_id TEXT NOT NULL, attempt INTEGER NOT NULL, visible_at INTEGER NOT NULL, state TEXT NOT NULL, forget_at INTEGER NOT NULL)`);
    sql.exec("CREATE INDEX IF NOT EXISTS messages_due ON messages (state, visible_at, ts)");
    sql.exec(`CREATE TABLE IF NOT EXISTS idem (idem_key TEXT NOT NULL, payload_hash TEXT NOT NULL, msg_id TEXT NOT NULL, expires_at INTEGER NOT NULL,
      PRIMARY KEY (idem_key, payload_hash))`);
  }

  findIdem(idemKey: string, payloadHash: string, now: number): string | null {
    const rows = this.sql.exec("SELECT msg_id FROM idem WHERE idem_key = ? AND payload_hash = ? AND expires_at > ?", idemKey, payloadHash, now).toArray();
    return (rows[0]?.msg_id as string | undefined) ?? null;
  }
  putIdem(idemKey: string, payloadHash: string, msgId: string, expiresAt: number): void {
    this.sql.exec("INSERT OR REPLACE INTO idem (idem_key, payload_hash, msg_id, expires_at) VALUES (?, ?, ?, ?)", idemKey, payloadHash, msgId, expiresAt);
  }
  purge(now: number): number {
    this.sql.exec("DELETE FROM idem WHERE expires_at <= ?", now);
    this.sql.exec("DELETE FROM messages WHERE state = 'acked' AND forget_at <= ?", now);
    return this.sql.exec("DELETE FROM messages WHERE state = 'dead' AND forget_at > 0 AND forget_at <= ?", now).rowsWritten;
  }
  isEmpty(): boolean {
    const n = (table: string) => this.sql.exec(`SELECT COUNT(*) AS n FROM ${table}`).one().n as number;
    return n("messages") === 0 && n("idem") === 0;
  }
  dropOldestDead(count: number): void {
    this.sql.exec("DELETE FROM messages WHERE msg_id IN (SELECT msg_id FROM messages WHERE state = 'dead' ORDER BY forget_at LIMIT ?)", count);
  }
  /** Whether this object's storage holds a topic's tables (without creating them). */
  static exists(sql: SqlStorage): boolean {
    return sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages'").toArray().length > 0;
  }
  /** Remove the tables, so an emptied topic holds no storage. */
  static drop(sql: SqlStorage): void {
    sql.exec("DROP TABLE IF EXISTS messages");
    sql.exec("DROP TABLE IF EXISTS idem");
  }
  liveCount(): number {
    return this.sql.exec("SELECT COUNT(*) AS n FROM messages WHERE state IN ('ready', 'inflight')").one().n as number;
  }
  deadCount(): number {
    return this.sql.exec("SELECT COUNT(*) AS n FROM messages WHERE state = 'dead'").one().n as number;
  }
  insert(m: Message): void {
    this.sql.exec(
      "INSERT INTO messages (msg_id, ts, idem_key, payload, payload_hash, attrs, corr_id, attempt, visible_at, state, forget_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      m.msg_id, m.ts, m.idem_key, m.payload, m.payload_hash, JSON.stringify(m.attrs), m.corr_id, m.attempt, m.visible_at, m.state, m.forget_at,
    );
  }
  get(msgId: string): Message | null {
    const rows = this.sql.exec<Row>("SELECT * FROM messages WHERE msg_id = ?", msgId).toArray();
    return rows[0] ? toMessage(rows[0]) : null;
  }
  update(m: Message): void {
    this.sql.exec("UPDATE messages SET attempt = ?, visible_at = ?, state = ?, forget_at = ? WHERE msg_id = ?", m.attempt, m.visible_at, m.state, m.forget_at, m.msg_id);
  }
  due(now: number, limit: number): Message[] {
    return this.sql
      .exec<Row>("SELECT * FROM messages WHERE state IN ('ready', 'inflight') AND visible_at <= ? ORDER BY ts LIMIT ?", now, limit)
      .toArray()
      .map(toMessage);
  }
  dead(limit: number): Message[] {
    return this.sql.exec<Row>("SELECT * FROM messages WHERE state = 'dead' ORDER BY ts LIMIT ?", limit).toArray().map(toMessage);
  }
}
