/**
 * @module The multipart seam: where an upload's state (its plan, its parts' CVs and bytes) lives
 * between requests. Two strategies, as for objects: R2 (its own multipart upload, state in small
 * R2 records beside it) and the amnesia RAM store (the AmnesiaStore Durable Object, memory only).
 */
import type { PutOutcome } from "../object-store";
import type { PartRecord } from "./combine";
import type { PartUpload } from "./part-upload";
import type { PartLayout } from "./plan";

/** An open upload, as `POST /uploads` made it. */
export interface UploadRecord extends PartLayout {
  id: string;
  hex: string;
  contentType: string;
  /** Epoch ms after which it is dropped. */
  expiresAt: number;
}

export interface UploadLimits {
  /** Open uploads allowed at once. */
  maxOpen: number;
  ttlMs: number;
  now: number;
}

export type CreateOutcome =
  | { status: "created"; upload: UploadRecord; expired: number }
  | { status: "too_many"; open: number; expired: number }
  /** The RAM store's budget cannot take the object (with its outboard). */
  | { status: "full"; usedBytes: number; budgetBytes: number; expired: number; shard?: string };

export type PartOutcome = { status: "stored" } | { status: "unknown" } | { status: "full"; usedBytes: number; budgetBytes: number };

/** `changed`: a part was replaced after its CVs were read, so the checked CVs may not be the stored bytes. */
export type CompleteOutcome = PutOutcome | { status: "unknown" } | { status: "changed" };

export interface MultipartStore {
  readonly kind: "r2" | "amnesia";
  create(plan: Omit<UploadRecord, "id" | "expiresAt">, outboardBytes: number, limits: UploadLimits): Promise<CreateOutcome>;
  /** The open upload `id`; null when unknown, finished or expired (expired ones are dropped, and counted, by a sweep). */
  get(id: string, now: number): Promise<UploadRecord | null>;
  /** Store part `part.n` (replacing an earlier one); rejects when its body failed. */
  putPart(upload: UploadRecord, part: PartUpload): Promise<PartOutcome>;
  /** The parts stored so far, and a token that `complete` checks to know none changed since. */
  parts(upload: UploadRecord): Promise<{ parts: PartRecord[]; version: string }>;
  /** Make the object from the parts as read at `version` (their root matched), with its outboard; the upload is gone after. */
  complete(upload: UploadRecord, version: string, outboard: Uint8Array): Promise<CompleteOutcome>;
  /** Drop the upload and its parts; false when there was none. */
  abort(id: string): Promise<boolean>;
  /** Open uploads now (expired ones dropped on the way, and counted). */
  open(now: number): Promise<{ open: number; expired: number }>;
}
