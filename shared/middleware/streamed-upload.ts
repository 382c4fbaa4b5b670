/**
 * @module The one route whose body streams into the store instead of being held:
 * `PUT /o/:addr`. The body cap and the deadline treat it apart (`MAX_OBJECT_BYTES`, and time
 * for its declared length at `UPLOAD_MIN_BYTES_PER_S`).
 */
import type { Config } from "../config";

export const isStreamedUpload = (request: Request) => request.method === "PUT" && new URL(request.url).pathname.startsWith("/o/");

/** The request's deadline: `REQUEST_TIMEOUT_MS`, plus, for a streamed upload, its declared length at the slowest accepted rate. */
export function deadlineMs(request: Request, config: Config): number {
  const declared = request.headers.get("content-length");
  if (!isStreamedUpload(request) || declared === null || !/^\d+$/.test(declared.trim())) return config.REQUEST_TIMEOUT_MS;
  return config.REQUEST_TIMEOUT_MS + Math.ceil((Number(declared) / config.UPLOAD_MIN_BYTES_PER_S) * 1000);
}
