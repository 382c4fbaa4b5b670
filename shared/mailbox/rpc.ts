/**
 * @module The Mailbox Durable Object's RPC contract (durable-objects/mailbox.ts implements it):
 * what the worker's mailbox client (client.ts) calls on a topic's object, and what topics call on
 * the topic directory (the object named by topic-registry.ts's `directoryName`).
 */
import type { Message } from "./message-table";
import type { DeadCounts, SendInput } from "./send-rules";

export type { DeadCounts, SendInput };

export interface MailboxLimits {
  persistent: boolean;
  capacity: number;
  dedupeMs: number;
  maxAttempts: number;
  /** Dead letters kept per topic (drop-oldest past it) and for how long. */
  deadCapacity: number;
  deadTtlMs: number;
  /** Topics holding state at once (topics outside the count, such as `put`, never claim). */
  maxTopics: number;
}

/** The topic's name, and whether it counts against `maxTopics`. */
export interface TopicRef {
  name: string;
  counted: boolean;
}

export type SendOutcome =
  | { status: "sent" | "duplicate"; msg_id: string; depth: number }
  | { status: "full"; depth: number }
  /** A new topic, refused because `maxTopics` topics already hold state. */
  | { status: "topic_limit"; topics: number };

export type RecvOutcome = { messages: Delivery[]; deadLettered: number; depth: number } & DeadCounts;
export type NackOutcome = { status: "requeued" | "dead" | "unknown" } & DeadCounts;

/** What a consumer receives: the message without its bookkeeping. */
export type Delivery = Omit<Message, "visible_at" | "state" | "forget_at">;

export interface MailboxRpc extends Rpc.DurableObjectBranded {
  // a topic's object
  send(topic: TopicRef, input: SendInput, limits: MailboxLimits): Promise<SendOutcome>;
  /** `send` for several messages to this topic in one call and one turn; outcomes in order. */
  sendMany(topic: TopicRef, inputs: SendInput[], limits: MailboxLimits): Promise<SendOutcome[]>;
  recv(visibilityMs: number, maxMessages: number, limits: MailboxLimits): Promise<RecvOutcome>;
  /** "ok" also for a repeated ack; "unknown" when absent or its visibility already expired. */
  ack(msgId: string, limits: MailboxLimits): Promise<"ok" | "unknown">;
  nack(msgId: string, limits: MailboxLimits): Promise<NackOutcome>;
  deadLetters(maxMessages: number, limits: MailboxLimits): Promise<{ messages: Delivery[] } & DeadCounts>;
  stats(limits: MailboxLimits): Promise<{ depth: number; dead: number }>;
  /** When nothing is left, give the directory place back and hold no state at all. */
  releaseIfEmpty(topic: string, limits: MailboxLimits): Promise<boolean>;
  // the topic directory
  /** Give `topic` a place unless `maxTopics` topics hold one. */
  claimTopic(topic: string, limits: MailboxLimits): Promise<{ ok: boolean; topics: number }>;
  releaseTopic(topic: string, limits: MailboxLimits): Promise<void>;
  topicCount(limits: MailboxLimits): Promise<number>;
}
