/**
 * @module The set of mailbox topics that hold state, as kept by the topic directory (one
 * Mailbox object that only counts topics): in memory (amnesia) or in its SQLite storage.
 */
/** The directory's instance name per mode; `#` is not allowed in topic names, so no topic can take it. */
export const directoryName = (persistent: boolean) => `#topics:${persistent ? "sqlite" : "memory"}`;

export interface TopicRegistry {
  has(topic: string): boolean;
  add(topic: string): void;
  delete(topic: string): void;
  size(): number;
  list(): string[];
}

export class MemoryTopicRegistry implements TopicRegistry {
  readonly #topics = new Set<string>();
  has(topic: string) {
    return this.#topics.has(topic);
  }
  add(topic: string) {
    this.#topics.add(topic);
  }
  delete(topic: string) {
    this.#topics.delete(topic);
  }
  size() {
    return this.#topics.size;
  }
  list() {
    return [...this.#topics];
  }
}

export class SqlTopicRegistry implements TopicRegistry {
  constructor(private readonly sql: SqlStorage) {
    sql.exec("CREATE TABLE IF NOT EXISTS topics (name TEXT PRIMARY KEY)");
  }
  has(topic: string) {
    return this.sql.exec("SELECT 1 FROM topics WHERE name = ?", topic).toArray().length > 0;
  }
  add(topic: string) {
    this.sql.exec("INSERT OR IGNORE INTO topics (name) VALUES (?)", topic);
  }
  delete(topic: string) {
    this.sql.exec("DELETE FROM topics WHERE name = ?", topic);
  }
  size() {
    return this.sql.exec("SELECT COUNT(*) AS n FROM topics").one().n as number;
  }
  list() {
    return this.sql.exec("SELECT name FROM topics").toArray().map((row) => row.name as string);
  }
}
