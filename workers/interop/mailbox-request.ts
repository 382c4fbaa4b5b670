/**
 * @module What the mailbox routes accept: strict JSON bodies, validated by these schemas (and
 * described by them in the API document).
 */
import { TOPIC } from "../../shared/mailbox/topic";
import * as z from "../../shared/zod";

// Built on first use (z.lazy): building zod schemas is a measurable part of an isolate's startup.
const topic = () => z.string().check(z.regex(TOPIC, "must match [a-z0-9._-]{1,64}"));
const maxMessages = () => z._default(z.number().check(z.int(), z.gte(1), z.lte(100)), 10);
export const sendSchema = z.lazy(() => z.strictObject({
  topic: topic(),
  idem_key: z.string().check(z.minLength(1), z.maxLength(255)),
  payload_b64: z.string(),
  attrs: z.optional(z.record(z.string().check(z.maxLength(64)), z.string().check(z.maxLength(1024))).check(z.refine((a: Record<string, string>) => Object.keys(a).length <= 32, "at most 32 attrs"))),
}));
export const recvSchema = z.lazy(() => z.strictObject({
  topic: topic(),
  visibility_ms: z._default(z.number().check(z.int(), z.gte(1), z.lte(12 * 3600 * 1000)), 30_000),
  max_messages: maxMessages(),
}));
export const nackSchema = z.lazy(() => z.strictObject({ reason: z.optional(z.string().check(z.maxLength(256))) }));
export const dlqSchema = z.lazy(() => z.strictObject({ topic: topic(), max_messages: maxMessages() }));
