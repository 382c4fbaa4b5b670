/**
 * @module Whole-request deadline (`REQUEST_TIMEOUT_MS`, default 5 s; a streamed upload also gets
 * time for its declared length at `UPLOAD_MIN_BYTES_PER_S`): past it the client gets 503 TIMEOUT
 * and `rc.signal` aborts, so body readers and stores stop and store nothing.
 */
import { configOf, type Middleware } from "../context";
import { shed } from "../errors";
import { deadlineMs } from "./streamed-upload";

export function withTimeout(): Middleware {
  return (next) =>
    async function withTimeout(request, rc) {
      const ms = deadlineMs(request, configOf(rc));
      let timer: ReturnType<typeof setTimeout> | null = null;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = shed(503, "TIMEOUT", `request exceeded ${ms} ms`, 1_000);
          rc.abort(error);
          reject(error);
        }, ms);
      });
      try {
        return await Promise.race([next(request, rc), deadline]);
      } finally {
        if (timer !== null) clearTimeout(timer);
      }
    };
}
