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
