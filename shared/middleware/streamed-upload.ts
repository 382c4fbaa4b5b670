/**
 * @module The routes whose body streams into the store instead of being held: `PUT /o/:addr`
 * and a multipart upload's `PUT /uploads/:id/:n`. The body cap and the deadline treat them apart
 * (`MAX_OBJECT_BYTES`, the part route then checks the part's exact length; and time for the
 * declared length at `UPLOAD_MIN_BYTES_PER_S`).
 */
import type { Config } from "../config";

const UPLOAD_PART_PATH = /^\/uploads\/[^/]+\/[^/]+$/;

export function isStreamedUpload(request: Request): boolean {
  if (request.method !== "PUT") return false;
  const path = new URL(request.url).pathname;
  return path.startsWith("/o/") || UPLOAD_PART_PATH.test(path);
}

/** The request's deadline: `REQUEST_TIMEOUT_MS`, plus, for a streamed upload, its declared length at the slowest accepted rate. */
export function deadlineMs(request: Request, config: Config): number {
  const declared = request.headers.get("content-length");
  if (!isStreamedUpload(request) || declared === null || !/^\d+$/.test(declared.trim())) return config.REQUEST_TIMEOUT_MS;
  return config.REQUEST_TIMEOUT_MS + Math.ceil((Number(declared) / config.UPLOAD_MIN_BYTES_PER_S) * 1000);
}
