/**
 * @module Content addresses: `b3:` followed by the 64 lowercase hex digits of the BLAKE3-256
 * hash of the exact (decoded) bytes. Upper case and any other shape are malformed.
 */
import { malformed } from "./errors";

const ADDRESS = /^b3:([0-9a-f]{64})$/;
const HEX64 = /^[0-9a-f]{64}$/;

export const formatAddress = (hex: string) => `b3:${hex}`;

/** The hex of a well-formed address, or null. */
export function parseAddress(text: string): string | null {
  return ADDRESS.exec(text)?.[1] ?? null;
}

/** Like `parseAddress`, but a malformed address is a 400 MALFORMED error. */
export function requireAddress(text: string): string {
  const hex = parseAddress(text);
  if (!hex) throw malformed(`not a content address: expected b3:<64 lowercase hex>`, "bad_address");
  return hex;
}

export const isHex64 = (text: string) => HEX64.test(text);

/** The strong entity tag of a whole object: its address, quoted. */
export const etagOf = (hex: string) => `"b3:${hex}"`;
