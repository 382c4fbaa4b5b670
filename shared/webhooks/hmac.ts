/**
 * @module HMAC-SHA256 checks for webhook signatures. `crypto.subtle.verify` compares in constant
 * time, so no hand-written comparison is needed; hex is decoded strictly first.
 */
const encoder = new TextEncoder();

export function hexToBytes(hex: string): Uint8Array | null {
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    keys.set(secret, key);
  }
  return key;
}

/** True when `signature` is HMAC-SHA256(secret, message) for any of `secrets` (current, previous). */
export async function hmacMatchesAny(secrets: readonly string[], message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  for (const secret of secrets) {
    if (await crypto.subtle.verify("HMAC", await hmacKey(secret), signature, message)) return true;
  }
  return false;
}

export function concatBytes(...parts: (Uint8Array | string)[]): Uint8Array {
  const bytes = parts.map((p) => (typeof p === "string" ? encoder.encode(p) : p));
  const out = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of bytes) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}
