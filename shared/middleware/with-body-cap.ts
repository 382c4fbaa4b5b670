/**
 * @module Early body cap: a declared `Content-Length` over `MAX_BODY_BYTES` is refused with 413
 * before any byte is read. Bodies without a length are counted as they stream (see body/). The
 * one route that streams bodies into the store instead of holding them, `PUT /o/:addr`, is
 * capped by `MAX_OBJECT_BYTES`.
 */
import { configOf, type Middleware } from "../context";
import { badRequest, payloadTooLarge } from "../errors";
import { isStreamedUpload } from "./streamed-upload";

/** Where a body too large for `POST /put` can go instead. */
export const STREAMING_HINT = "larger objects stream with PUT /o/b3:<hex> (up to MAX_OBJECT_BYTES)";


export function withBodyCap(): Middleware {
  return (next) =>
    async function withBodyCap(request, rc) {
      const declared = request.headers.get("content-length");
      if (declared !== null) {
        if (!/^\d+$/.test(declared.trim())) throw badRequest("Content-Length is not a number", "bad_content_length");
        const config = configOf(rc);
        if (isStreamedUpload(request)) {
          if (Number(declared) > config.MAX_OBJECT_BYTES) throw payloadTooLarge(`object of ${declared} bytes exceeds the ${config.MAX_OBJECT_BYTES}-byte cap (MAX_OBJECT_BYTES)`, "object_cap");
        } else if (Number(declared) > config.MAX_BODY_BYTES) {
          const hint = new URL(request.url).pathname === "/put" ? `; ${STREAMING_HINT}` : "";
          throw payloadTooLarge(`body of ${declared} bytes exceeds the ${config.MAX_BODY_BYTES}-byte cap${hint}`, "body_cap");
        }
      }
      return await next(request, rc);
    };
}
