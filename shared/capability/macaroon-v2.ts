/**
 * @module Macaroons in the libmacaroons v2 binary format, the one libmacaroons, pymacaroons,
 * go-macaroon and js-macaroon all read and write (docs/SECURITY.md lays it out byte by byte):
 *
 *   0x02 | [LOCATION] IDENTIFIER EOS | ( [LOCATION] IDENTIFIER [VID] EOS )* | EOS | SIGNATURE
 *
 * where a field is `type byte, uvarint length, bytes` (EOS is the lone byte 0x00) and the types
 * are LOCATION 1, IDENTIFIER 2, VID 4, SIGNATURE 6. The signature is an HMAC-SHA256 chain:
 * sig₀ = HMAC(HMAC("macaroons-key-generator", rootKey), identifier), sigₙ = HMAC(sigₙ₋₁, caveatₙ).
 * Written here (on @noble/hashes) because the npm `macaroon` package doubles its buffer on every
 * append and cannot serialise a token with a few caveats (docs/DECISIONS.md).
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { equalInConstantTime } from "../bytes";

const FIELD_EOS = 0;
const FIELD_LOCATION = 1;
const FIELD_IDENTIFIER = 2;
const FIELD_VID = 4;
const FIELD_SIGNATURE = 6;
const KEY_GENERATOR = new TextEncoder().encode("macaroons-key-generator");

export interface MacaroonCaveat {
  identifier: Uint8Array;
  /** Third-party caveats only. */
  location?: Uint8Array;
  vid?: Uint8Array;
}

export interface Macaroon {
  location?: Uint8Array;
  identifier: Uint8Array;
  caveats: MacaroonCaveat[];
  signature: Uint8Array;
}

export class MalformedMacaroon extends Error {
  override name = "MalformedMacaroon";
}

/** The key every signature chain starts from (libmacaroons' derived key). */
export const derivedKey = (rootKey: Uint8Array) => hmac(sha256, KEY_GENERATOR, rootKey);

export function createMacaroon(rootKey: Uint8Array, identifier: Uint8Array, location?: Uint8Array): Macaroon {
  return { location, identifier, caveats: [], signature: hmac(sha256, derivedKey(rootKey), identifier) };
}

/** A new macaroon with one more first-party caveat; the signature chains on. */
export function addFirstPartyCaveat(macaroon: Macaroon, condition: Uint8Array): Macaroon {
  return { ...macaroon, caveats: [...macaroon.caveats, { identifier: condition }], signature: hmac(sha256, macaroon.signature, condition) };
}

/** Whether a first-party-only macaroon's signature chain starts from `derived` (derivedKey(root key)). */
export function signatureMatches(macaroon: Macaroon, derived: Uint8Array): boolean {
  if (macaroon.caveats.some((c) => c.vid !== undefined)) return false;
  let signature = hmac(sha256, derived, macaroon.identifier);
  for (const caveat of macaroon.caveats) signature = hmac(sha256, signature, caveat.identifier);
  return equalInConstantTime(signature, macaroon.signature);
}

export function encodeMacaroon(macaroon: Macaroon): Uint8Array {
  const out: number[] = [2];
  const field = (type: number, data?: Uint8Array) => {
    if (data === undefined) return;
    out.push(type);
    for (let n = data.length; ; n >>>= 7) {
      if (n < 0x80) {
        out.push(n);
        break;
      }
      out.push((n & 0x7f) | 0x80);
    }
    for (const byte of data) out.push(byte);
  };
  field(FIELD_LOCATION, macaroon.location);
  field(FIELD_IDENTIFIER, macaroon.identifier);
  out.push(FIELD_EOS);
  for (const caveat of macaroon.caveats) {
    field(FIELD_LOCATION, caveat.location);
    field(FIELD_IDENTIFIER, caveat.identifier);
    field(FIELD_VID, caveat.vid);
    out.push(FIELD_EOS);
  }
  out.push(FIELD_EOS);
  field(FIELD_SIGNATURE, macaroon.signature);
  return Uint8Array.from(out);
}

/** Parse the v2 binary format; throws MalformedMacaroon on anything else (trailing bytes included). */
export function decodeMacaroon(bytes: Uint8Array): Macaroon {
  let at = 0;
  const fail = (why: string): never => {
    throw new MalformedMacaroon(`${why} at byte ${at}`);
  };
  const peek = () => (at < bytes.length ? bytes[at]! : fail("unexpected end"));
  const uvarint = () => {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = peek();
      at++;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    return fail("varint too long");
  };
  const field = (type: number): Uint8Array => {
    if (peek() !== type) fail(`expected field ${type}`);
    at++;
    const length = uvarint();
    if (at + length > bytes.length) fail("field runs past the end");
    const data = bytes.subarray(at, at + length);
    at += length;
    return data;
  };
  const optional = (type: number) => (at < bytes.length && bytes[at] === type ? field(type) : undefined);
  const eos = () => (peek() === FIELD_EOS ? at++ : fail("expected end of section"));

  if (peek() !== 2) fail("not version 2");
  at++;
  const location = optional(FIELD_LOCATION);
  const identifier = field(FIELD_IDENTIFIER);
  eos();
  const caveats: MacaroonCaveat[] = [];
  while (peek() !== FIELD_EOS) {
    const caveatLocation = optional(FIELD_LOCATION);
    const caveatIdentifier = field(FIELD_IDENTIFIER);
    const vid = optional(FIELD_VID);
    eos();
    caveats.push({ identifier: caveatIdentifier, location: caveatLocation, vid });
  }
  eos();
  const signature = field(FIELD_SIGNATURE);
  if (signature.length !== 32) fail("signature is not 32 bytes");
  if (at !== bytes.length) fail("trailing bytes");
  return { location, identifier, caveats, signature };
}
