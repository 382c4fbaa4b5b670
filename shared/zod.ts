/**
 * @module The zod every schema imports: the functional `zod/mini` build, which bundles to a tenth
 * of the classic one (whose methods pull in the JSON Schema converters on every schema, and whose
 * `z` namespace pulls in every locale). docs/DECISIONS.md has the measurements. Mini installs no
 * messages by default ("Invalid input" for everything), so this module installs the English ones
 * the classic build uses: refusals read exactly as before.
 */
import { config, pipe, transform, type ZodMiniPipe, type ZodMiniTransform } from "zod/mini";
import type { $ZodType } from "zod/v4/core";
import en from "zod/v4/locales/en.js";

config(en());

export * from "zod/mini";

/**
 * Classic zod's `z.preprocess`: `fn` maps the raw input before `schema` parses it (mini spells it
 * as a pipe from a transform, which is exactly what classic builds).
 */
export function preprocess<U extends $ZodType>(fn: (value: unknown) => unknown, schema: U): ZodMiniPipe<ZodMiniTransform<unknown, unknown>, U> {
  return pipe<ZodMiniTransform<unknown, unknown>, U>(transform(fn), schema);
}
