/**
 * @module The JSON view of OAP/1 frames used by `npm run oap`: numbers for the small fields,
 * decimal strings for tenant_id and corr_id, lowercase hex (or null when empty) for cap and payload.
 */
import { DecodeError } from "../domain-errors";
import { HEADER_LEN, OapError, type Frame } from "./codec";

export interface FrameJson {
  len: number;
  ver: number;
  flags: number;
  code: number;
  app_proto_id: number;
  tenant_id: string;
  cap_len: number;
  corr_id: string;
  cap: string | null;
  payload: string | null;
}

const hex = (bytes: Uint8Array) => (bytes.length ? [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("") : null);

/** Bytes of a hex string (whitespace and a leading 0x allowed); a DecodeError that says where it is not hex. */
export function hexToBytes(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "").replace(/^0x/i, "");
  const bad = /[^0-9a-fA-F]/.exec(clean);
  if (bad) throw new DecodeError("invalid", "bad_hex", `not hex: ${JSON.stringify(bad[0])} at digit ${bad.index + 1}`);
  if (clean.length % 2) throw new DecodeError("invalid", "bad_hex", `not hex: an odd number of digits (${clean.length})`);
  return Uint8Array.from(clean.match(/../g) ?? [], (h) => parseInt(h, 16));
}

export function frameToJson(frame: Frame): FrameJson {
  return {
    len: HEADER_LEN + frame.cap.length + frame.payload.length,
    ver: frame.ver,
    flags: frame.flags,
    code: frame.code,
    app_proto_id: frame.appProtoId,
    tenant_id: frame.tenantId.toString(),
    cap_len: frame.cap.length,
    corr_id: frame.corrId.toString(),
    cap: hex(frame.cap),
    payload: hex(frame.payload),
  };
}

/** The keys a frame's JSON may have; `len` and `cap_len` are computed, and checked when given. */
export const FRAME_JSON_KEYS = ["len", "ver", "flags", "code", "app_proto_id", "tenant_id", "cap_len", "corr_id", "cap", "payload"] as const;

const invalid = (message: string) => new DecodeError("invalid", "bad_frame_json", message);

function integerField(json: Record<string, unknown>, key: string, max: number, fallback: number): number {
  const value = json[key];
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) throw invalid(`${key} must be a whole number 0..${max}, got ${JSON.stringify(value)}`);
  return value;
}

/** u64/u128 fields: a decimal string (JSON numbers lose precision past 2^53), or a safe integer. */
function bigField(json: Record<string, unknown>, key: string, bits: 64 | 128): bigint {
  const value = json[key];
  if (value === undefined) return 0n;
  const max = (1n << BigInt(bits)) - 1n;
  const ok = (typeof value === "string" && /^[0-9]+$/.test(value)) || (typeof value === "number" && Number.isSafeInteger(value) && value >= 0);
  if (!ok || BigInt(value as string | number) > max) throw invalid(`${key} must be a decimal string 0..2^${bits}-1 (e.g. "42"), got ${JSON.stringify(value)}`);
  return BigInt(value as string | number);
}

function bytesField(json: Record<string, unknown>, key: string): Uint8Array {
  const value = json[key];
  if (value === undefined || value === null) return new Uint8Array(0);
  if (typeof value !== "string") throw invalid(`${key} must be a hex string or null, got ${JSON.stringify(value)}`);
  try {
    return hexToBytes(value);
  } catch (error) {
    throw invalid(`${key}: ${(error as Error).message}`);
  }
}

/**
 * A frame from its JSON view, strictly: an unknown key, a wrong type or a value out of range is a
 * DecodeError naming the key and what it must be, so a typo (`flag` for `flags`) is never a
 * silently different frame. `len` and `cap_len`, when present (decode's output fed back), must
 * match the frame.
 */
export function frameFromJson(json: unknown): Frame {
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw invalid(`a frame is a JSON object, got ${Array.isArray(json) ? "an array" : JSON.stringify(json)}`);
  const record = json as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => !(FRAME_JSON_KEYS as readonly string[]).includes(key));
  if (unknown.length) throw invalid(`unknown key${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => JSON.stringify(k)).join(", ")}; a frame's keys are ${FRAME_JSON_KEYS.join(", ")}`);
  const frame: Frame = {
    ver: integerField(record, "ver", 0xffff, 1),
    flags: integerField(record, "flags", 0xffff, 0),
    code: integerField(record, "code", 0xffff, 0),
    appProtoId: integerField(record, "app_proto_id", 0xffff, 0),
    tenantId: bigField(record, "tenant_id", 128),
    corrId: bigField(record, "corr_id", 64),
    cap: bytesField(record, "cap"),
    payload: bytesField(record, "payload"),
  };
  const computed = { len: HEADER_LEN + frame.cap.length + frame.payload.length, cap_len: frame.cap.length };
  for (const key of ["len", "cap_len"] as const) {
    if (record[key] !== undefined && record[key] !== computed[key]) throw invalid(`${key} is ${JSON.stringify(record[key])} but the frame's is ${computed[key]} (it is computed: leave it out)`);
  }
  return frame;
}

/** The CLI's error line: the codec's error name (or Invalid for input that is not a frame) and what is wrong. */
export const errorJson = (error: unknown) => ({ error: error instanceof OapError ? error.kind : "Invalid", message: error instanceof Error ? error.message : String(error) });
