/**
 * @module Where a mailbox topic keeps its messages: in memory (amnesia) or in the Durable
 * Object's SQLite storage (persistent). One small synchronous interface, two strategies; the
 * queue rules live once, in the Mailbox Durable Object.
 */

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

export class MemoryMessageTable implements MessageTable {
  readonly #messages = new Map<string, Message>();
  readonly #idem = new Map<string, { msgId: string; expiresAt: number }>();

  findIdem(idemKey: string, payloadHash: string, now: number): string | null {
    const entry = this.#idem.get(`${idemKey}\u0000${payloadHash}`);
    return entry && entry.expiresAt > now ? entry.msgId : null;
  }
  putIdem(idemKey: string, payloadHash: string, msgId: string, expiresAt: number): void {
    this.#idem.set(`${idemKey}\u0000${payloadHash}`, { msgId, expiresAt });
  }
  purge(now: number): number {
    let expired = 0;
    for (const [key, entry] of this.#idem) if (entry.expiresAt <= now) this.#idem.delete(key);
    for (const [id, m] of this.#messages) {
      if ((m.state === "acked" || m.state === "dead") && m.forget_at > 0 && m.forget_at <= now) {
        this.#messages.delete(id);
        if (m.state === "dead") expired++;
      }
    }
    return expired;
  }
  isEmpty(): boolean {
    return this.#messages.size === 0 && this.#idem.size === 0;
  }
  dropOldestDead(count: number): void {
    const dead = [...this.#messages.values()].filter((m) => m.state === "dead").sort((a, b) => a.forget_at - b.forget_at);
    for (const m of dead.slice(0, count)) this.#messages.delete(m.msg_id);
  }
  liveCount(): number {
    let n = 0;
    for (const m of this.#messages.values()) if (m.state === "ready" || m.state === "inflight") n++;
    return n;
  }
  deadCount(): number {
    let n = 0;
    for (const m of this.#messages.values()) if (m.state === "dead") n++;
    return n;
  }
  insert(message: Message): void {
    this.#messages.set(message.msg_id, { ...message });
  }
  get(msgId: string): Message | null {
    const m = this.#messages.get(msgId);
    return m ? { ...m } : null;
  }
  update(message: Message): void {
    this.#messages.set(message.msg_id, { ...message });
  }
  due(now: number, limit: number): Message[] {
    const out: Message[] = [];
    for (const m of this.#messages.values()) {
      if ((m.state === "ready" || m.state === "inflight") && m.visible_at <= now) out.push({ ...m });
    }
    return out.sort((a, b) => a.ts - b.ts).slice(0, limit);
  }
  dead(limit: number): Message[] {
    return [...this.#messages.values()].filter((m) => m.state === "dead").sort((a, b) => a.ts - b.ts).slice(0, limit).map((m) => ({ ...m }));
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
