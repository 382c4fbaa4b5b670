/**
 * @module JSON request bodies for the admin/mailbox APIs: read under the body cap, parsed, and
 * validated by a strict zod schema; every failure is a 400 naming the field.
 */
import { readWireBytes } from "./body/read-body";
import { configOf, type RequestContext } from "./context";
import { badRequest, malformed, unsupportedMediaType } from "./errors";
import type * as z from "./zod";

export async function readJson<S extends z.ZodMiniType>(request: Request, rc: RequestContext, schema: S, { optional = false } = {}): Promise<z.infer<S>> {
  const type = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  let text = "";
  if (request.body) {
    if (type !== "application/json" && type !== "") throw unsupportedMediaType("send application/json", "content_type");
    text = new TextDecoder().decode(await readWireBytes(request.body, configOf(rc).MAX_BODY_BYTES, rc.signal));
  }
  let value: unknown = {};
  if (text.trim() !== "") {
    try {
      value = JSON.parse(text);
    } catch {
      throw malformed("body is not valid JSON", "bad_json");
    }
  } else if (!optional) {
    throw badRequest("a JSON body is required", "empty_body");
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw badRequest(`${first.path.length ? first.path.join(".") : "body"}: ${first.message}`, "bad_body");
  }
  return parsed.data;
}
