/**
 * @module Multipart uploads inside the AmnesiaStore (RAM only, nothing on disk). An upload opens
 * with the object's whole size (and its outboard's) reserved in the store's byte budget and its
 * one buffer allocated. Each part attempt fills a buffer of its own (reserved too, while in
 * flight) and is copied into the object's buffer only when it committed with its CVs: a retried
 * or concurrent part never leaves bytes that differ from the CVs kept for them. Completing moves
 * the buffer into the store's objects; aborting or expiry releases it all.
 */
import type { PutOutcome } from "../shared/store/object-store";
import type { PartRecord } from "../shared/store/multipart/combine";
import type { CreateOutcome, UploadLimits, UploadRecord } from "../shared/store/multipart/multipart-store";

/** What the store holds that uploads touch: its objects and the budget used. */
export interface Ledger {
  usedBytes: number;
  objects: Map<string, { bytes: Uint8Array; contentType: string; outboard?: Uint8Array }>;
}

interface OpenUpload {
  record: UploadRecord;
  /** Object plus outboard bytes reserved. */
  cost: number;
  bytes: Uint8Array;
  parts: Map<number, { size: number; cvs: Uint8Array }>;
  /** Bumped by every committed part: `complete` refuses parts read before a change. */
  version: number;
}

interface PartAttempt {
  uploadId: string;
  n: number;
  bytes: Uint8Array;
  filled: number;
  touched: number;
}

export interface MultipartHeld {
  uploads: Map<string, OpenUpload>;
  attempts: Map<string, PartAttempt>;
  /** Uploads dropped on expiry since a caller last took the count (for `uploads_total{outcome="expired"}`). */
  expiredUncounted: number;
}

export const emptyMultipart = (): MultipartHeld => ({ uploads: new Map(), attempts: new Map(), expiredUncounted: 0 });

/** A part attempt with no bytes for this long is dropped (its uploader went away). */
const ATTEMPT_IDLE_MS = 60_000;

import type { PartStart } from "../shared/store/amnesia-rpc";
export type { PartStart };

export class AmnesiaMultipart {
  constructor(
    private readonly ledger: Ledger,
    private readonly held: MultipartHeld,
  ) {}

  create(id: string, plan: Omit<UploadRecord, "id" | "expiresAt">, outboardBytes: number, limits: UploadLimits, budgetBytes: number): CreateOutcome {
    this.sweep(limits.now);
    const expired = this.takeExpired();
    const open = this.held.uploads.size;
    if (open >= limits.maxOpen) return { status: "too_many", open, expired };
    const cost = plan.size + outboardBytes;
    if (this.ledger.usedBytes + cost > budgetBytes) return { status: "full", usedBytes: this.ledger.usedBytes, budgetBytes, expired };
    this.ledger.usedBytes += cost;
    const record: UploadRecord = { ...plan, id, expiresAt: limits.now + limits.ttlMs };
    this.held.uploads.set(record.id, { record, cost, bytes: new Uint8Array(plan.size), parts: new Map(), version: 0 });
    return { status: "created", upload: record, expired };
  }

  get(id: string, now: number): UploadRecord | null {
    this.sweep(now);
    return this.held.uploads.get(id)?.record ?? null;
  }

  beginPart(id: string, n: number, length: number, budgetBytes: number): PartStart {
    this.sweep(Date.now());
    this.#dropIdleAttempts();
    if (!this.held.uploads.has(id)) return { status: "unknown" };
    if (this.ledger.usedBytes + length > budgetBytes) return { status: "full", usedBytes: this.ledger.usedBytes, budgetBytes };
    this.ledger.usedBytes += length;
    const attempt = crypto.randomUUID();
    this.held.attempts.set(attempt, { uploadId: id, n, bytes: new Uint8Array(length), filled: 0, touched: Date.now() });
    return { status: "ready", attempt };
  }

  appendPart(attempt: string, chunk: Uint8Array): void {
    const part = this.held.attempts.get(attempt);
    if (!part) throw new Error(`no part attempt ${attempt} (aborted, or idle past ${ATTEMPT_IDLE_MS} ms)`);
    if (part.filled + chunk.length > part.bytes.length) {
      this.abortPart(attempt);
      throw new Error("part runs past its length");
    }
    part.bytes.set(chunk, part.filled);
    part.filled += chunk.length;
    part.touched = Date.now();
  }

  /** Keep the attempt as part n with its CVs; "unknown" when the upload went away meanwhile. */
  commitPart(attempt: string, cvs: Uint8Array): "stored" | "unknown" {
    const part = this.held.attempts.get(attempt);
    this.abortPart(attempt);
    const upload = part && this.held.uploads.get(part.uploadId);
    if (!part || !upload) return "unknown";
    if (part.filled !== part.bytes.length) throw new Error(`part ${part.n} holds ${part.filled} of ${part.bytes.length} bytes`);
    upload.bytes.set(part.bytes, (part.n - 1) * upload.record.partBytes);
    upload.parts.set(part.n, { size: part.bytes.length, cvs });
    upload.version++;
    return "stored";
  }

  abortPart(attempt: string): void {
    const part = this.held.attempts.get(attempt);
    if (!part) return;
    this.held.attempts.delete(attempt);
    this.ledger.usedBytes -= part.bytes.length;
  }

  parts(id: string): { parts: PartRecord[]; version: string } | null {
    const upload = this.held.uploads.get(id);
    if (!upload) return null;
    return { parts: [...upload.parts].map(([n, p]) => ({ n, size: p.size, cvs: p.cvs })), version: String(upload.version) };
  }

  complete(id: string, version: string, outboard: Uint8Array): PutOutcome | { status: "unknown" } | { status: "changed" } {
    const upload = this.held.uploads.get(id);
    if (!upload) return { status: "unknown" };
    if (String(upload.version) !== version) return { status: "changed" };
    this.abort(id);
    const { hex, contentType } = upload.record;
    if (this.ledger.objects.has(hex)) return { status: "existing" };
    this.ledger.objects.set(hex, { bytes: upload.bytes, contentType, outboard });
    this.ledger.usedBytes += upload.bytes.length + outboard.length;
    return { status: "created" };
  }

  abort(id: string): boolean {
    const upload = this.held.uploads.get(id);
    if (!upload) return false;
    this.held.uploads.delete(id);
    this.ledger.usedBytes -= upload.cost;
    for (const [attempt, part] of this.held.attempts) if (part.uploadId === id) this.abortPart(attempt);
    return true;
  }

  /** Drop expired uploads (counted until `takeExpired`). */
  sweep(now: number): void {
    for (const [id, upload] of this.held.uploads) {
      if (upload.record.expiresAt <= now) {
        this.abort(id);
        this.held.expiredUncounted++;
      }
    }
  }

  /** Uploads expired since the last call. */
  takeExpired(): number {
    const expired = this.held.expiredUncounted;
    this.held.expiredUncounted = 0;
    return expired;
  }

  #dropIdleAttempts(): void {
    const now = Date.now();
    for (const [attempt, part] of this.held.attempts) if (now - part.touched > ATTEMPT_IDLE_MS) this.abortPart(attempt);
  }
}
