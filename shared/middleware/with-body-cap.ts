/**
 * @module Early body cap: a declared `Content-Length` over `MAX_BODY_BYTES` is refused with 413
 * before any byte is read. Bodies without a length are counted as they stream (see body/).
 */
import { configOf, type Middleware } from "../context";
import { badRequest, payloadTooLarge } from "../errors";

export function withBodyCap(): Middleware {
  return (next) =>
    async function withBodyCap(request, rc) {
      const declared = request.headers.get("content-length");
      if (declared !== null) {
        if (!/^\d+$/.test(declared.trim())) throw badRequest("Content-Length is not a number", "bad_content_length");
        const cap = configOf(rc).MAX_BODY_BYTES;
        if (Number(declared) > cap) throw payloadTooLarge(`body of ${declared} bytes exceeds the ${cap}-byte cap`, "body_cap");
      }
      return await next(request, rc);
    };
}
