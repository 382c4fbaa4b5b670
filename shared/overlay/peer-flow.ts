/**
 * @module Per-peer flow control of one session: a token bucket on frames received (max rps), a
 * cap on the peer's requests in progress (inflight), and a credit window on the data frames sent
 * to the peer (send window). Pure and synchronous: the session object owns one of each.
 */

export class FrameBucket {
  #tokens: number;
  #at: number;

  constructor(
    private readonly rate: number,
    now = Date.now(),
  ) {
    this.#tokens = rate;
    this.#at = now;
  }

  /** Take one token; false when the peer is over its rate. */
  take(now = Date.now()): boolean {
    this.#tokens = Math.min(this.rate, this.#tokens + ((now - this.#at) / 1000) * this.rate);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

export class InflightRequests {
  #count = 0;

  constructor(private readonly max: number) {}

  tryStart(): boolean {
    if (this.#count >= this.max) return false;
    this.#count++;
    return true;
  }

  finish(): void {
    this.#count = Math.max(0, this.#count - 1);
  }

  get count(): number {
    return this.#count;
  }
}

/** A frame, or a thunk that encodes it when its credit arrives (so a long stream is not encoded up front). */
export type Outgoing = Uint8Array | (() => Uint8Array);

interface Queued {
  bytes: Outgoing;
  onSent?: () => void;
}

/**
 * Data frames to the peer need credit: at most `window` may be unacknowledged. Stream frames
 * wait in order for credit; gossip deliveries ask `hasRoom()` and are skipped instead of queued.
 */
export class CreditWindow {
  #outstanding = 0;
  #queue: Queued[] = [];

  constructor(
    private readonly window: number,
    private readonly send: (bytes: Uint8Array) => void,
  ) {}

  hasRoom(): boolean {
    return this.#outstanding < this.window && this.#queue.length === 0;
  }

  /** Send now if there is credit, else queue behind earlier frames. */
  push(bytes: Outgoing, onSent?: () => void): void {
    this.#queue.push({ bytes, onSent });
    this.#drain();
  }

  /** The peer acknowledged `n` data frames (never more than are outstanding). */
  credit(n: number): void {
    this.#outstanding = Math.max(0, this.#outstanding - n);
    this.#drain();
  }

  get outstanding(): number {
    return this.#outstanding;
  }

  get queued(): number {
    return this.#queue.length;
  }

  #drain(): void {
    while (this.#queue.length && this.#outstanding < this.window) {
      const next = this.#queue.shift()!;
      this.#outstanding++;
      this.send(typeof next.bytes === "function" ? next.bytes() : next.bytes);
      next.onSent?.();
    }
  }
}
