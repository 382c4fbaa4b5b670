/**
 * @module The worker's side of the mailbox: topic names, message ids (`<topic>:<uuid>`, so an
 * ack finds its topic), limits from configuration, and the JSON shape of deliveries.
 */
import type { Delivery, Mailbox, MailboxLimits, SendOutcome } from "../../durable-objects/mailbox";
import { encodeBase64 } from "../base64";
import { blake3 } from "../blake3";
import { configOf, type RequestContext } from "../context";
import { badRequest } from "../errors";
import { metrics } from "../metrics";

export interface MailboxEnv {
  MAILBOX: DurableObjectNamespace<Mailbox>;
}

export const TOPIC = /^[a-z0-9._-]{1,64}$/;

/** Last depth this isolate saw per topic (for queue_depth and readiness). */
export const knownQueueDepths = new Map<string, number>();

function observeDepth(topic: string, depth: number): void {
  knownQueueDepths.set(`mailbox.${topic}`, depth);
  metrics.queueDepth.set({ queue: `mailbox.${topic}` }, depth);
}

export function mailboxLimits(rc: RequestContext<any>): MailboxLimits {
  const c = configOf(rc);
  return { persistent: !c.AMNESIA, capacity: c.WORK_QUEUE_CAPACITY, dedupeMs: c.MAILBOX_DEDUPE_S * 1000, maxAttempts: c.MAILBOX_MAX_ATTEMPTS };
}

function stubFor(rc: RequestContext<any>, topic: string): DurableObjectStub<Mailbox> {
  const namespace = (rc.env as MailboxEnv).MAILBOX;
  return namespace.get(namespace.idFromName(topic));
}

/** Split a message id into its topic and the id inside the topic; 404-worthy when malformed. */
export function parseMessageId(msgId: string): { topic: string; id: string } | null {
  const at = msgId.lastIndexOf(":");
  if (at <= 0) return null;
  const topic = msgId.slice(0, at);
  const id = msgId.slice(at + 1);
  return TOPIC.test(topic) && /^[0-9a-f-]{36}$/.test(id) ? { topic, id } : null;
}

export interface SendRequest {
  topic: string;
  idem_key: string;
  payload: Uint8Array;
  attrs?: Record<string, string>;
}

export type SendResult = { status: "sent" | "duplicate"; msg_id: string; payload_hash: string } | { status: "full" };

export async function sendMessage(rc: RequestContext<any>, request: SendRequest): Promise<SendResult> {
  if (!TOPIC.test(request.topic)) throw badRequest("topic must match [a-z0-9._-]{1,64}", "bad_topic");
  const payload_hash = `b3:${blake3().hashHex(request.payload)}`;
  const outcome: SendOutcome = await stubFor(rc, request.topic).send(
    { idem_key: request.idem_key, payload: request.payload, payload_hash, attrs: request.attrs ?? {}, corr_id: rc.corrId },
    mailboxLimits(rc),
  );
  observeDepth(request.topic, outcome.depth);
  if (outcome.status === "full") return { status: "full" };
  return { status: outcome.status, msg_id: `${request.topic}:${outcome.msg_id}`, payload_hash };
}

export interface DeliveryJson {
  msg_id: string;
  topic: string;
  ts: number;
  idem_key: string;
  payload_b64: string;
  payload_hash: string;
  attrs: Record<string, string>;
  corr_id: string;
  attempt: number;
}

const toJson = (topic: string, d: Delivery): DeliveryJson => ({
  msg_id: `${topic}:${d.msg_id}`,
  topic,
  ts: d.ts,
  idem_key: d.idem_key,
  payload_b64: encodeBase64(d.payload),
  payload_hash: d.payload_hash,
  attrs: d.attrs,
  corr_id: d.corr_id,
  attempt: d.attempt,
});

export async function receiveMessages(rc: RequestContext<any>, topic: string, visibilityMs: number, maxMessages: number): Promise<DeliveryJson[]> {
  const { messages, deadLettered, depth } = await stubFor(rc, topic).recv(visibilityMs, maxMessages, mailboxLimits(rc));
  if (deadLettered) metrics.deadLetters.inc({ topic }, deadLettered);
  observeDepth(topic, depth);
  return messages.map((d) => toJson(topic, d));
}

export async function ackMessage(rc: RequestContext<any>, msgId: string): Promise<boolean> {
  const parsed = parseMessageId(msgId);
  return parsed !== null && (await stubFor(rc, parsed.topic).ack(parsed.id, mailboxLimits(rc))) === "ok";
}

export async function nackMessage(rc: RequestContext<any>, msgId: string): Promise<"requeued" | "dead" | "unknown"> {
  const parsed = parseMessageId(msgId);
  if (!parsed) return "unknown";
  const outcome = await stubFor(rc, parsed.topic).nack(parsed.id, mailboxLimits(rc));
  if (outcome === "dead") metrics.deadLetters.inc({ topic: parsed.topic });
  return outcome;
}

export async function deadLetters(rc: RequestContext<any>, topic: string, maxMessages: number): Promise<DeliveryJson[]> {
  return (await stubFor(rc, topic).deadLetters(maxMessages, mailboxLimits(rc))).map((d) => toJson(topic, d));
}

