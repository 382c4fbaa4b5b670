/**
 * @module What `POST /uploads` accepts: a strict JSON body naming the object to come.
 */
import * as z from "../../shared/zod";
import { isMediaType } from "./put-request";

// Built on first use (z.lazy): building zod schemas is a measurable part of an isolate's startup.
export const createUploadSchema = z.lazy(() => z.strictObject({
  address: z.string().check(z.regex(/^b3:[0-9a-f]{64}$/, "must be b3:<64 lowercase hex>")),
  /** At least one byte: an empty object is one `PUT /o` away. */
  size: z.number().check(z.int("must be a whole number"), z.gte(1, "must be at least 1 (an empty object: PUT /o/b3:<hex>)"), z.lte(Number.MAX_SAFE_INTEGER)),
  /** Stored with the object, as a streamed PUT's Content-Type (default application/octet-stream). */
  content_type: z.optional(z.string().check(z.refine(isMediaType, "must be a media type"))),
}));

export type CreateUpload = z.infer<typeof createUploadSchema>;

/** Upload ids are the store's UUIDs; anything else names no upload. */
export const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Part numbers: 1 … 10 000, in plain digits. */
export const PART_NUMBER = /^[1-9][0-9]{0,4}$/;
