/**
 * @module Standard base64 for JSON payloads (`payload`, `payload_b64`) and handshake keys: strict
 * decoding (padding optional, no whitespace; anything else is a DecodeError, a 400 at the HTTP
 * edge) and encoding of any size.
 */
import { DecodeError } from "./domain-errors";

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}|[A-Za-z0-9+/]{3})?$/;

/** Whether `text` is strict base64 (what `decodeBase64` accepts). */
export const isBase64 = (text: string): boolean => BASE64.test(text);

export function decodeBase64(text: string): Uint8Array {
  if (!BASE64.test(text)) throw new DecodeError("invalid", "bad_base64", "payload is not valid base64");
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  // in slices: spreading a whole megabyte into fromCharCode would overflow the stack
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
