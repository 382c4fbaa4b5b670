/**
 * @module The operations a capability token can allow. `admin` stands for every operation.
 * Routes name the op they need; docs/SECURITY.md maps each route to its op.
 */
export const CAPABILITY_OPS = [
  "put",
  "edge.put",
  "mailbox.send",
  "mailbox.recv",
  "mailbox.ack",
  "audit.read",
  "metrics",
  "overlay.fetch",
  "overlay.publish",
  "overlay.subscribe",
  "admin",
] as const;

export type CapabilityOp = (typeof CAPABILITY_OPS)[number];

const KNOWN = new Set<string>(CAPABILITY_OPS);
export const isCapabilityOp = (value: string): value is CapabilityOp => KNOWN.has(value);
