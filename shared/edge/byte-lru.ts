/**
 * @module A least-recently-used map bounded by the bytes of its values, for immutable data kept
 * per isolate (plain values only: workerd forbids sharing one request's I/O objects with another).
 */
export class ByteLru<V> {
  private readonly entries = new Map<string, { value: V; bytes: number }>();
  private used = 0;

  constructor(private cap: number) {}

  get capBytes(): number {
    return this.cap;
  }

  get usedBytes(): number {
    return this.used;
  }

  /** The value, now the most recently used; undefined when absent. */
  get(key: string): V | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    this.entries.delete(key); // re-insert: a Map iterates in insertion order, oldest first
    this.entries.set(key, hit);
    return hit.value;
  }

  /** Keeps the value unless it alone exceeds the cap; evicts the least recently used to fit. */
  set(key: string, value: V, bytes: number): void {
    this.delete(key);
    if (bytes > this.cap) return;
    this.entries.set(key, { value, bytes });
    this.used += bytes;
    this.shrinkTo(this.cap);
  }

  delete(key: string): void {
    const old = this.entries.get(key);
    if (!old) return;
    this.entries.delete(key);
    this.used -= old.bytes;
  }

  /** A new cap (the config knob can differ between requests): evicts down to it. */
  resize(capBytes: number): void {
    this.cap = capBytes;
    this.shrinkTo(capBytes);
  }

  private shrinkTo(cap: number): void {
    for (const [key, { bytes }] of this.entries) {
      if (this.used <= cap) return;
      this.entries.delete(key);
      this.used -= bytes;
    }
  }
}
