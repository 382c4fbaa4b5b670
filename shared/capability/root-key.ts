/**
 * @module Root keys: `CAP_ROOT_KEY` (and `CAP_ROOT_KEY_PREVIOUS` during rotation) as hex or base64
 * of at least 32 bytes. Each key has a short id (the first 8 bytes of its SHA-256, in hex) that
 * tokens carry in their identifier, so a verifier picks the right key without trying both.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { derivedKey } from "./macaroon-v2";

export const MIN_ROOT_KEY_BYTES = 32;

export interface RootKey {
  /** 16 hex characters; public (a fingerprint, not the key). */
  readonly id: string;
  readonly bytes: Uint8Array;
  /** HMAC("macaroons-key-generator", bytes): where every signature chain starts, computed once. */
  readonly derived: Uint8Array;
}

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** The key's bytes, or a sentence saying why the text is not a usable root key. */
export function decodeRootKey(text: string): Uint8Array | string {
  const trimmed = text.trim();
  let bytes: Uint8Array;
  if (HEX.test(trimmed)) {
    bytes = new Uint8Array(trimmed.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(trimmed.slice(i * 2, i * 2 + 2), 16);
  } else if (BASE64.test(trimmed)) {
    const standard = trimmed.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
    if (standard.length % 4 === 1) return "is neither hex nor base64";
    const binary = atob(standard + "=".repeat((4 - (standard.length % 4)) % 4));
    bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } else {
    return "is neither hex nor base64";
  }
  if (bytes.length < MIN_ROOT_KEY_BYTES) return `must decode to at least ${MIN_ROOT_KEY_BYTES} bytes (got ${bytes.length})`;
  return bytes;
}

export function rootKeyOf(bytes: Uint8Array): RootKey {
  return { id: bytesToHex(sha256(bytes).subarray(0, 8)), bytes, derived: derivedKey(bytes) };
}

/** The keys a verifier accepts: the current one first, then the previous one during a rotation. */
export interface Keyring {
  readonly current: RootKey;
  readonly previous?: RootKey;
}

export function findKey(keyring: Keyring, id: string): RootKey | undefined {
  if (keyring.current.id === id) return keyring.current;
  if (keyring.previous?.id === id) return keyring.previous;
  return undefined;
}
