/**
 * @module Per-request timing for the `Server-Timing` header: where a request spent its time
 * (`store`, `do`, `hash`) and whether a cache answered (`cache;desc="hit"`). Hot path: one
 * small array per request, no closures; the header text is built once, at the end.
 *
 * workerd's clock only advances across I/O when deployed (Spectre mitigation), so I/O phases
 * (store, do) are real and pure CPU phases (hash) read 0 there; locally they are real too.
 */

/** The phases a response reports; `total` is added when the header is written. */
export type TimingName = "cache" | "store" | "do" | "hash";

const NAMES: readonly TimingName[] = ["cache", "store", "do", "hash"];
const SLOT: Record<TimingName, number> = { cache: 0, store: 1, do: 2, hash: 3 };
const UNSEEN = -1;

export class RequestTiming {
  /** When the request entered the worker (performance.now()). */
  readonly started = performance.now();
  /** Summed ms per phase; UNSEEN until the phase happens. */
  readonly #ms = [UNSEEN, UNSEEN, UNSEEN, UNSEEN];
  /** The one description a phase carries (the cache result); most requests never set one. */
  #cacheDesc: "hit" | "miss" | undefined;

  /** Time an I/O call: its ms are added to `name` whether it resolves or throws. */
  async measure<T>(name: TimingName, work: PromiseLike<T>): Promise<T> {
    const from = performance.now();
    try {
      return await work;
    } finally {
      this.add(name, performance.now() - from);
    }
  }

  /** Add ms to a phase (several calls of one kind sum into one entry). */
  add(name: TimingName, ms: number): void {
    const slot = SLOT[name];
    const before = this.#ms[slot]!;
    this.#ms[slot] = (before === UNSEEN ? 0 : before) + ms;
  }

  /** Record a cache lookup's result (the last lookup of a request wins). */
  cache(result: "hit" | "miss"): void {
    this.#cacheDesc = result;
  }

  /** The cache result, if a cache was asked. */
  get cacheResult(): "hit" | "miss" | undefined {
    return this.#cacheDesc;
  }

  /** Summed ms of a phase; 0 when it did not happen. */
  ms(name: TimingName): number {
    const value = this.#ms[SLOT[name]]!;
    return value === UNSEEN ? 0 : value;
  }

  /** Whether the phase happened in this request at all. */
  happened(name: TimingName): boolean {
    return name === "cache" ? this.#cacheDesc !== undefined : this.#ms[SLOT[name]] !== UNSEEN;
  }

  /** Milliseconds since the request arrived. */
  elapsed(): number {
    return performance.now() - this.started;
  }

  /** The `Server-Timing` value: the phases that happened, then `total`. */
  header(totalMs: number): string {
    let out = "";
    for (const name of NAMES) {
      const ms = this.#ms[SLOT[name]]!;
      if (name === "cache") {
        // a lookup that was timed (the object cache) carries its time; the tile cache's is in memory
        if (this.#cacheDesc !== undefined) out += ms === UNSEEN ? `cache;desc="${this.#cacheDesc}", ` : `cache;desc="${this.#cacheDesc}";dur=${round(ms)}, `;
        continue;
      }
      if (ms !== UNSEEN) out += `${name};dur=${round(ms)}, `;
    }
    return `${out}total;dur=${round(totalMs)}`;
  }
}

/** Tenths of a millisecond are as precise as the clock gets. */
const round = (ms: number) => Math.round(ms * 10) / 10;
