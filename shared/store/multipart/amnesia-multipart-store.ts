/**
 * @module Multipart uploads in amnesia mode, seen from a worker: RPC calls to the AmnesiaStore
 * Durable Object (durable-objects/amnesia-multipart.ts), which keeps everything in memory under
 * the store's byte budget. A part's bytes go over chunk by chunk, as a streamed upload's do.
 */
import type { AmnesiaStoreRpc } from "../amnesia-rpc";
import { AMNESIA_INSTANCE_NAME } from "../amnesia-object-store";
import type { PartRecord } from "./combine";
import type { CompleteOutcome, CreateOutcome, MultipartStore, PartOutcome, UploadLimits, UploadRecord } from "./multipart-store";
import type { PartUpload } from "./part-upload";

export class AmnesiaMultipartStore implements MultipartStore {
  readonly kind = "amnesia";
  readonly #stub: DurableObjectStub<AmnesiaStoreRpc>;

  constructor(namespace: DurableObjectNamespace<AmnesiaStoreRpc>, private readonly budgetBytes: number) {
    this.#stub = namespace.get(namespace.idFromName(AMNESIA_INSTANCE_NAME));
  }

  create(plan: Omit<UploadRecord, "id" | "expiresAt">, outboardBytes: number, limits: UploadLimits): Promise<CreateOutcome> {
    return this.#stub.createMultipart(plan, outboardBytes, limits, this.budgetBytes);
  }

  get(id: string, now: number): Promise<UploadRecord | null> {
    return this.#stub.multipartUpload(id, now);
  }

  async putPart(upload: UploadRecord, part: PartUpload): Promise<PartOutcome> {
    const start = await this.#stub.beginPart(upload.id, part.n, part.size, this.budgetBytes);
    if (start.status !== "ready") {
      await part.body.cancel().catch(() => {});
      return start;
    }
    const reader = part.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await this.#stub.appendPart(start.attempt, value);
      }
      return { status: await this.#stub.commitPart(start.attempt, part.cvs()) };
    } catch (error) {
      await this.#stub.abortPart(start.attempt).catch(() => {});
      await reader.cancel(error).catch(() => {});
      throw part.failure ?? error;
    }
  }

  async parts(upload: UploadRecord): Promise<{ parts: PartRecord[]; version: string }> {
    return (await this.#stub.multipartParts(upload.id)) ?? { parts: [], version: "gone" };
  }

  complete(upload: UploadRecord, version: string, outboard: Uint8Array): Promise<CompleteOutcome> {
    return this.#stub.completeMultipart(upload.id, version, outboard);
  }

  abort(id: string): Promise<boolean> {
    return this.#stub.abortMultipart(id);
  }

  open(now: number): Promise<{ open: number; expired: number }> {
    return this.#stub.openMultipart(now);
  }
}
