/**
 * @module The mailbox API: send, recv, ack, nack, and dead letters. Each needs a capability
 * token: `mailbox.send`, `mailbox.recv` (recv and dead letters) or `mailbox.ack` (ack and nack),
 * for the topic — read from the body, or from the message id (`<topic>:<id>`).
 */
import { notFound, resourceBusy } from "../../shared/errors";
import { readJson } from "../../shared/json-body";
import { ackMessage, deadLetters, nackMessage, parseMessageId, receiveMessages, sendMessage, type MailboxContext } from "../../shared/mailbox/client";
import { declaredBodyBytes, requireAlso, requireCapability } from "../../shared/middleware/require-capability";
import type { RouteRequest } from "../../shared/middleware";
import { decodeBase64 } from "../../shared/base64";
import { dlqSchema, nackSchema, recvSchema, sendSchema } from "./mailbox-request";

/** The topic a message id names; an id that names none matches no topic caveat. */
const topicOfMessage = (msgId: string | undefined) => parseMessageId(msgId ?? "")?.topic;

const json = (body: unknown, status = 200) => Response.json(body, { status, headers: { "Content-Type": "application/json; charset=utf-8" } });

export async function mailboxSend(request: RouteRequest, rc: MailboxContext): Promise<Response> {
  const token = requireCapability(request, rc, { op: "mailbox.send", partial: true });
  const body = await readJson(request, rc, sendSchema);
  requireAlso(token, { op: "mailbox.send", topic: body.topic, bytes: declaredBodyBytes(request) });
  const result = await sendMessage(rc, { topic: body.topic, idem_key: body.idem_key, payload: decodeBase64(body.payload_b64), attrs: body.attrs });
  // back-pressure on this topic only (not counted as the node shedding)
  if (result.status === "full") throw resourceBusy("BACKPRESSURE", `topic ${body.topic} is full`, 1_000);
  if (result.status === "topic_limit") throw resourceBusy("topic_limit", `topic ${body.topic} would be a new topic, and ${result.topics} topics already hold messages (MAILBOX_MAX_TOPICS)`, 5_000);
  return json({ msg_id: result.msg_id, duplicate: result.status === "duplicate" });
}

export async function mailboxRecv(request: RouteRequest, rc: MailboxContext): Promise<Response> {
  const token = requireCapability(request, rc, { op: "mailbox.recv", partial: true });
  const body = await readJson(request, rc, recvSchema);
  requireAlso(token, { op: "mailbox.recv", topic: body.topic });
  return json({ messages: await receiveMessages(rc, body.topic, body.visibility_ms, body.max_messages) });
}

export async function mailboxAck(request: RouteRequest, rc: MailboxContext): Promise<Response> {
  requireCapability(request, rc, { op: "mailbox.ack", topic: topicOfMessage(request.params.msg_id) });
  if (!(await ackMessage(rc, request.params.msg_id ?? ""))) throw notFound("no such in-flight message (unknown, or its visibility expired)");
  return json({ ok: true });
}

export async function mailboxNack(request: RouteRequest, rc: MailboxContext): Promise<Response> {
  requireCapability(request, rc, { op: "mailbox.ack", topic: topicOfMessage(request.params.msg_id) });
  await readJson(request, rc, nackSchema, { optional: true });
  const outcome = await nackMessage(rc, request.params.msg_id ?? "");
  if (outcome === "unknown") throw notFound("no such in-flight message (unknown, or its visibility expired)");
  return json({ ok: true, dead_lettered: outcome === "dead" });
}

export async function mailboxDeadLetters(request: RouteRequest, rc: MailboxContext): Promise<Response> {
  const token = requireCapability(request, rc, { op: "mailbox.recv", partial: true });
  const body = await readJson(request, rc, dlqSchema);
  requireAlso(token, { op: "mailbox.recv", topic: body.topic });
  return json({ messages: await deadLetters(rc, body.topic, body.max_messages) });
}
