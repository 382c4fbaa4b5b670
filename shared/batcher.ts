/**
 * @module An isolate-level batcher: items added by many requests within a short window leave
 * as one batch, so N requests make one background call instead of N.
 *
 * workerd forbids one request from using another's I/O objects (docs/DECISIONS.md), so only
 * data is shared: the request that opens a batch owns it, waits out the window under its own
 * `waitUntil`, and sends the batch from its own context (its own stub, its own promises). Requests
 * that join an open batch only push plain data into it.
 */
import type { ConfigEnv } from "./config";
import type { RequestContext } from "./context";

export interface BatcherOptions<T, E extends ConfigEnv> {
  /** The most items in one batch; a full batch is closed, the next item opens a new one. */
  maxItems: number;
  /** Send one batch from the owning request's context; must settle (count its own failures). */
  send: (rc: RequestContext<E>, items: T[]) => Promise<void>;
}

export class IsolateBatcher<T, E extends ConfigEnv = ConfigEnv> {
  /** Open batches by key (items with different keys never share a call). */
  readonly #open = new Map<string, T[]>();

  constructor(private readonly options: BatcherOptions<T, E>) {}

  /** Queue `item`; a new batch leaves `windowMs` after it opened, in `rc`'s waitUntil. */
  add(rc: RequestContext<E>, key: string, item: T, windowMs: number): void {
    const open = this.#open.get(key);
    if (open) {
      open.push(item);
      if (open.length >= this.options.maxItems) this.#open.delete(key);
      return;
    }
    const items = [item];
    if (this.options.maxItems > 1) this.#open.set(key, items);
    rc.exec.waitUntil(this.#sendLater(rc, key, items, windowMs));
  }

  async #sendLater(rc: RequestContext<E>, key: string, items: T[], windowMs: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    if (this.#open.get(key) === items) this.#open.delete(key);
    await this.options.send(rc, items);
  }
}
