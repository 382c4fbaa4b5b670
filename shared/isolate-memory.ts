/**
 * @module RAM-only state of a Durable Object that outlives the object's instance. workerd drops an
 * idle instance after about ten seconds (and rebuilds it on the next call), so state in instance
 * fields would vanish between two requests a few seconds apart. Amnesia state (objects, mailbox
 * messages, audit records) is kept here instead, per object id, for the life of the isolate:
 * still memory only, still gone on restart, but not on idleness.
 */
const held = new Map<string, unknown>();

export function isolateMemory<T>(ctx: DurableObjectState, kind: string, create: () => T): T {
  const key = `${kind}:${ctx.id.toString()}`;
  let value = held.get(key) as T | undefined;
  if (value === undefined) {
    value = create();
    held.set(key, value);
  }
  return value;
}

/** The state held for this object, without creating it (reads of something that was never written). */
export function peekIsolateMemory<T>(ctx: DurableObjectState, kind: string): T | undefined {
  return held.get(`${kind}:${ctx.id.toString()}`) as T | undefined;
}

/** Let go of this object's state (e.g. an emptied mailbox topic), so it holds no memory at all. */
export function forgetIsolateMemory(ctx: DurableObjectState, kind: string): void {
  held.delete(`${kind}:${ctx.id.toString()}`);
}
