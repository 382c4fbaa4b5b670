/**
 * @module Capability tokens: macaroons in the libmacaroons v2 binary format (macaroon-v2.ts),
 * sent as unpadded base64url. Minting needs the root key; attenuating
 * (adding caveats) needs only the token; verifying checks the HMAC chain against the root key
 * named in the identifier (`ron1:<key id>:<token id>`) and folds the caveats into a grant.
 */
import { addFirstPartyCaveat, createMacaroon, decodeMacaroon, encodeMacaroon, signatureMatches, type Macaroon } from "./macaroon-v2";
import { CapabilityDenied } from "./errors";
import { grantOf, type CaveatSpec, formatCaveats, type Grant } from "./caveats";
import { findKey, type Keyring, type RootKey } from "./root-key";

/** The macaroon's location field: informational only, never checked. */
export const TOKEN_LOCATION = "ron-workers";
const IDENTIFIER = /^ron1:([0-9a-f]{16}):([0-9a-f]{32})$/;
/** Longer tokens are refused before any parsing (a 32-caveat token is about 2 KiB). */
export const MAX_TOKEN_CHARS = 4096;
export const MAX_CAVEATS = 32;

export interface VerifiedToken {
  /** Random id minted into the token; shared by all its attenuations (rate limits key on it). */
  readonly id: string;
  readonly keyId: string;
  readonly grant: Grant;
}

export const encodeToken = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");

function decodeToken(token: string): Macaroon {
  if (token.length === 0 || token.length > MAX_TOKEN_CHARS || !/^[A-Za-z0-9_-]+$/.test(token) || token.length % 4 === 1) {
    throw new CapabilityDenied("bad_token", "token is not an unpadded base64url macaroon");
  }
  const standard = token.replace(/-/g, "+").replace(/_/g, "/");
  const bytes = Uint8Array.from(atob(standard + "=".repeat((4 - (standard.length % 4)) % 4)), (c) => c.charCodeAt(0));
  try {
    return decodeMacaroon(bytes);
  } catch {
    throw new CapabilityDenied("bad_token", "token is not a v2 macaroon");
  }
}

const text = new TextEncoder();
const utf8 = new TextDecoder();
/** Caveat conditions as text; one that is not UTF-8 becomes a line no verifier understands. */
const conditionsOf = (macaroon: Macaroon) => macaroon.caveats.map((c) => utf8.decode(c.identifier));

function randomHex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A new token under `root` with the given caveats (none: every operation, no expiry). */
export function mintToken(root: RootKey, spec: CaveatSpec = {}): string {
  let macaroon = createMacaroon(root.bytes, text.encode(`ron1:${root.id}:${randomHex(16)}`), text.encode(TOKEN_LOCATION));
  for (const line of formatCaveats(spec)) macaroon = addFirstPartyCaveat(macaroon, text.encode(line));
  return encodeToken(encodeMacaroon(macaroon));
}

/** The same token narrowed by more caveats; no key needed. Throws CapabilityDenied on a malformed token. */
export function attenuateToken(token: string, spec: CaveatSpec): string {
  let macaroon = decodeToken(token);
  const lines = formatCaveats(spec);
  if (macaroon.caveats.length + lines.length > MAX_CAVEATS) throw new RangeError(`a token holds at most ${MAX_CAVEATS} caveats`);
  for (const line of lines) macaroon = addFirstPartyCaveat(macaroon, text.encode(line));
  return encodeToken(encodeMacaroon(macaroon));
}

/** What a token says about itself, without checking its signature. */
export function inspectToken(token: string): { identifier: string; location: string; caveats: string[]; grant: Grant } {
  const macaroon = decodeToken(token);
  const caveats = conditionsOf(macaroon);
  return { identifier: utf8.decode(macaroon.identifier), location: macaroon.location ? utf8.decode(macaroon.location) : "", caveats, grant: grantOf(caveats) };
}

/**
 * Check a token's signature chain against the keyring. Throws CapabilityDenied("bad_token") for
 * anything but a well-formed first-party macaroon signed under a key we hold. Expiry and the
 * other caveats are judged per request (caveats.ts `judge`), not here.
 */
export function verifyToken(token: string, keyring: Keyring): VerifiedToken {
  const macaroon = decodeToken(token);
  const match = IDENTIFIER.exec(utf8.decode(macaroon.identifier));
  if (!match) throw new CapabilityDenied("bad_token", "token was not minted by this service");
  const [, keyId, id] = match as unknown as [string, string, string];
  const key = findKey(keyring, keyId);
  if (!key) throw new CapabilityDenied("bad_token", "token's root key is not one this service holds");
  if (macaroon.caveats.length > MAX_CAVEATS) throw new CapabilityDenied("bad_token", `token has more than ${MAX_CAVEATS} caveats`);
  if (macaroon.caveats.some((c) => c.vid !== undefined)) throw new CapabilityDenied("bad_token", "third-party caveats are not accepted");
  // caveats are judged against each request later (caveats.ts `judge`)
  if (!signatureMatches(macaroon, key.derived)) throw new CapabilityDenied("bad_token", "token signature does not verify");
  return { id, keyId, grant: grantOf(conditionsOf(macaroon)) };
}
