/**
 * @module The worker's side of the mailbox: topic names, message ids (`<topic>:<uuid>`, so an
 * ack finds its topic), limits from configuration, the JSON shape of deliveries, and the metrics
 * each operation feeds (topic labels bounded by topic-metrics).
 */
import type { DeadCounts, Delivery, MailboxLimits, MailboxRpc, SendOutcome } from "./rpc";
import { encodeBase64 } from "../base64";
import { blake3 } from "../blake3";
import type { ConfigEnv } from "../config";
import { configOf, type RequestContext } from "../context";
import { badRequest } from "../errors";
import { metrics } from "../metrics";
import { observeTopic, topicLabel, type TopicMetricLimits } from "./topic-metrics";
import { directoryName } from "./topic-registry";
import { TOPIC } from "./topic";

export interface MailboxEnv {
  MAILBOX: DurableObjectNamespace<MailboxRpc>;
}
/** A request that sends to or reads from a mailbox. */
export type MailboxContext = RequestContext<MailboxEnv & ConfigEnv>;

export { TOPIC } from "./topic";

/** The service's own topics: a fixed few, so they never count against MAILBOX_MAX_TOPICS. */
const SERVICE_TOPICS = new Set(["put", "webhooks.github", "webhooks.stripe", "webhooks.slack"]);

export function mailboxLimits(rc: RequestContext): MailboxLimits {
  const c = configOf(rc);
  return {
    persistent: !c.AMNESIA,
    capacity: c.WORK_QUEUE_CAPACITY,
    dedupeMs: c.MAILBOX_DEDUPE_S * 1000,
    maxAttempts: c.MAILBOX_MAX_ATTEMPTS,
    deadCapacity: c.MAILBOX_DLQ_CAPACITY,
    deadTtlMs: c.MAILBOX_DLQ_TTL_S * 1000,
    maxTopics: c.MAILBOX_MAX_TOPICS,
  };
}

function metricLimits(rc: RequestContext): TopicMetricLimits {
  const c = configOf(rc);
  return { labelled: c.MAILBOX_METRIC_TOPICS, remembered: c.MAILBOX_MAX_TOPICS, own: (topic) => SERVICE_TOPICS.has(topic) };
}

function observeDead(rc: RequestContext, topic: string, counts: DeadCounts & { depth?: number }): void {
  const limits = metricLimits(rc);
  const label = topicLabel(topic, limits);
  if (counts.droppedFull) metrics.mailboxDeadDropped.inc({ topic: label, cause: "capacity" }, counts.droppedFull);
  if (counts.expired) metrics.mailboxDeadDropped.inc({ topic: label, cause: "expired" }, counts.expired);
  observeTopic(topic, { depth: counts.depth, dead: counts.dead }, limits);
}

/** A topic's mailbox; callers time its RPCs as `do` in Server-Timing. */
function stubFor(rc: MailboxContext, topic: string): DurableObjectStub<MailboxRpc> {
  const namespace = rc.env.MAILBOX;
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
  /** More keys under which this send is a duplicate of an earlier one within the dedupe window. */
  dedupe_keys?: string[];
  payload: Uint8Array;
  attrs?: Record<string, string>;
}

export type SendResult =
  | { status: "sent" | "duplicate"; msg_id: string; payload_hash: string }
  | { status: "full" }
  /** The topic holds nothing yet and MAILBOX_MAX_TOPICS topics already do. */
  | { status: "topic_limit"; topics: number };

export async function sendMessage(rc: MailboxContext, request: SendRequest): Promise<SendResult> {
  if (!TOPIC.test(request.topic)) throw badRequest("topic must match [a-z0-9._-]{1,64}", "bad_topic");
  const hashFrom = performance.now();
  const payload_hash = `b3:${blake3().hashHex(request.payload)}`;
  rc.timing.add("hash", performance.now() - hashFrom);
  const outcome = await rc.timing.measure<SendOutcome>(
    "do",
    stubFor(rc, request.topic).send(
      { name: request.topic, counted: !SERVICE_TOPICS.has(request.topic) },
      { idem_key: request.idem_key, dedupe_keys: request.dedupe_keys, payload: request.payload, payload_hash, attrs: request.attrs ?? {}, corr_id: rc.corrId },
      mailboxLimits(rc),
    ),
  );
  if (outcome.status === "topic_limit") {
    metrics.mailboxTopicRefusals.inc();
    metrics.mailboxTopics.set({}, outcome.topics);
    return outcome;
  }
  observeTopic(request.topic, { depth: outcome.depth }, metricLimits(rc), true);
  if (outcome.status === "full") return { status: "full" };
  return { status: outcome.status, msg_id: `${request.topic}:${outcome.msg_id}`, payload_hash };
}

/** Several messages to one topic in one call, each with the corr_id of the request that made it. */
export async function sendMessages(rc: MailboxContext, topic: string, requests: (Omit<SendRequest, "topic"> & { corr_id: string })[]): Promise<SendResult[]> {
  if (!TOPIC.test(topic)) throw badRequest("topic must match [a-z0-9._-]{1,64}", "bad_topic");
  const inputs = requests.map((r) => ({
    idem_key: r.idem_key,
    dedupe_keys: r.dedupe_keys,
    payload: r.payload,
    payload_hash: `b3:${blake3().hashHex(r.payload)}`,
    attrs: r.attrs ?? {},
    corr_id: r.corr_id,
  }));
  const outcomes = await rc.timing.measure("do", stubFor(rc, topic).sendMany({ name: topic, counted: !SERVICE_TOPICS.has(topic) }, inputs, mailboxLimits(rc)));
  return outcomes.map((outcome, i): SendResult => {
    if (outcome.status === "topic_limit") {
      metrics.mailboxTopicRefusals.inc();
      metrics.mailboxTopics.set({}, outcome.topics);
      return outcome;
    }
    observeTopic(topic, { depth: outcome.depth }, metricLimits(rc), true);
    if (outcome.status === "full") return { status: "full" };
    return { status: outcome.status, msg_id: `${topic}:${outcome.msg_id}`, payload_hash: inputs[i]!.payload_hash };
  });
}

/** Refresh the topic-count gauge before a scrape. */
export async function refreshMailboxGauges(rc: MailboxContext): Promise<void> {
  if (!rc.configResult.ok) return;
  const limits = mailboxLimits(rc);
  metrics.mailboxTopics.set({}, await rc.timing.measure("do", stubFor(rc, directoryName(limits.persistent)).topicCount(limits)));
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

export async function receiveMessages(rc: MailboxContext, topic: string, visibilityMs: number, maxMessages: number): Promise<DeliveryJson[]> {
  const outcome = await rc.timing.measure("do", stubFor(rc, topic).recv(visibilityMs, maxMessages, mailboxLimits(rc)));
  if (outcome.deadLettered) metrics.deadLetters.inc({ topic: topicLabel(topic, metricLimits(rc)) }, outcome.deadLettered);
  observeDead(rc, topic, outcome);
  return outcome.messages.map((d) => toJson(topic, d));
}

export async function ackMessage(rc: MailboxContext, msgId: string): Promise<boolean> {
  const parsed = parseMessageId(msgId);
  return parsed !== null && (await rc.timing.measure("do", stubFor(rc, parsed.topic).ack(parsed.id, mailboxLimits(rc)))) === "ok";
}

export async function nackMessage(rc: MailboxContext, msgId: string): Promise<"requeued" | "dead" | "unknown"> {
  const parsed = parseMessageId(msgId);
  if (!parsed) return "unknown";
  const outcome = await rc.timing.measure("do", stubFor(rc, parsed.topic).nack(parsed.id, mailboxLimits(rc)));
  if (outcome.status === "dead") {
    metrics.deadLetters.inc({ topic: topicLabel(parsed.topic, metricLimits(rc)) });
    observeDead(rc, parsed.topic, outcome);
  }
  return outcome.status;
}

export async function deadLetters(rc: MailboxContext, topic: string, maxMessages: number): Promise<DeliveryJson[]> {
  const outcome = await rc.timing.measure("do", stubFor(rc, topic).deadLetters(maxMessages, mailboxLimits(rc)));
  observeDead(rc, topic, outcome);
  return outcome.messages.map((d) => toJson(topic, d));
}
