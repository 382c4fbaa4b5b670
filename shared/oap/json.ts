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

export function hexToBytes(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "").replace(/^0x/i, "");
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(clean)) throw new DecodeError("invalid", "bad_hex", "not hex");
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

export function frameFromJson(json: Partial<FrameJson>): Frame {
  return {
    ver: json.ver ?? 1,
    flags: json.flags ?? 0,
    code: json.code ?? 0,
    appProtoId: json.app_proto_id ?? 0,
    tenantId: BigInt(json.tenant_id ?? "0"),
    corrId: BigInt(json.corr_id ?? "0"),
    cap: json.cap ? hexToBytes(json.cap) : new Uint8Array(0),
    payload: json.payload ? hexToBytes(json.payload) : new Uint8Array(0),
  };
}

export const errorJson = (error: unknown) => ({ error: error instanceof OapError ? error.kind : "Invalid" });
