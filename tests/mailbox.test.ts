import { abortAllDurableObjects } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, envelopeOf, metricsText } from "./helpers";

const json = (path: string, body: unknown, overrides: Record<string, string> = {}, headers: Record<string, string> = {}) =>
  call(path, { method: "POST", body: body === undefined ? undefined : JSON.stringify(body), headers: { "Content-Type": "application/json", ...headers } }, overrides);
const topicName = () => `t-${crypto.randomUUID().slice(0, 8)}`;
const b64 = (text: string) => btoa(text);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function send(topic: string, payload: string, overrides: Record<string, string> = {}, idem = crypto.randomUUID()) {
  const response = await json("/mailbox/send", { topic, idem_key: idem, payload_b64: b64(payload), attrs: { kind: "test" } }, overrides);
  return { response, body: response.status === 200 ? await response.json<any>() : null };
}
async function recv(topic: string, overrides: Record<string, string> = {}, visibility_ms = 60_000, max_messages = 10) {
  const response = await json("/mailbox/recv", { topic, visibility_ms, max_messages }, overrides);
  expect(response.status).toBe(200);
  return (await response.json<any>()).messages as any[];
}

for (const [mode, overrides] of [["amnesia", {}], ["persistent", { AMNESIA: "false" }]] as const) {
  describe(`mailbox (${mode})`, () => {
    it("delivers what was sent, with its hash, attrs and attempt, and forgets it once acked", async () => {
      const topic = topicName();
      const { body } = await send(topic, "hello mailbox", overrides, "idem-1");
      expect(body).toEqual({ msg_id: expect.stringMatching(new RegExp(`^${topic}:[0-9a-f-]{36}$`)), duplicate: false });
      const [message, ...rest] = await recv(topic, overrides);
      expect(rest).toHaveLength(0);
      expect(message).toMatchObject({ msg_id: body.msg_id, topic, idem_key: "idem-1", payload_b64: b64("hello mailbox"), attrs: { kind: "test" }, attempt: 1 });
      expect(message.payload_hash).toMatch(/^b3:[0-9a-f]{64}$/);
      expect(typeof message.corr_id).toBe("string");
      expect((await call(`/mailbox/ack/${body.msg_id}`, { method: "POST" }, overrides)).status).toBe(200);
      expect((await call(`/mailbox/ack/${body.msg_id}`, { method: "POST" }, overrides)).status).toBe(200); // idempotent
      expect(await recv(topic, overrides)).toEqual([]);
    });

    it("returns the same msg_id with duplicate:true for a resend within the window", async () => {
      const topic = topicName();
      const first = await send(topic, "same", overrides, "k");
      const again = await send(topic, "same", overrides, "k");
      expect(again.body).toEqual({ msg_id: first.body.msg_id, duplicate: true });
      const different = await send(topic, "other payload", overrides, "k");
      expect(different.body.duplicate).toBe(false);
      expect(await recv(topic, overrides)).toHaveLength(2);
    });

    it("hides a received message until its visibility passes, then redelivers it; a late ack is 404", async () => {
      const topic = topicName();
      const { body } = await send(topic, "visible later", overrides);
      expect(await recv(topic, overrides, 150)).toHaveLength(1);
      expect(await recv(topic, overrides, 150)).toHaveLength(0);
      await sleep(200);
      const again = await recv(topic, overrides, 60_000);
      expect(again).toHaveLength(1);
      expect(again[0].attempt).toBe(2);
      await sleep(5);
      const late = await call(`/mailbox/ack/${topic}:${"0".repeat(8)}-0000-0000-0000-${"0".repeat(12)}`, { method: "POST" }, overrides);
      expect(late.status).toBe(404);
      expect((await call(`/mailbox/ack/${body.msg_id}`, { method: "POST" }, overrides)).status).toBe(200);
    });

    it("redelivers after a nack with backoff, and dead-letters after the last attempt", async () => {
      const topic = topicName();
      const limits = { ...overrides, MAILBOX_MAX_ATTEMPTS: "2" };
      const { body } = await send(topic, "will fail", limits);
      const [first] = await recv(topic, limits);
      const nack = await json(`/mailbox/nack/${first.msg_id}`, { reason: "consumer crashed" }, limits);
      expect(await nack.json()).toEqual({ ok: true, dead_lettered: false });
      expect(await recv(topic, limits)).toHaveLength(0); // backing off (1 s)
      await sleep(1100);
      const [second] = await recv(topic, limits);
      expect(second.attempt).toBe(2);
      expect(await (await json(`/mailbox/nack/${second.msg_id}`, {}, limits)).json()).toEqual({ ok: true, dead_lettered: true });
      await sleep(1100);
      expect(await recv(topic, limits)).toHaveLength(0);
      const dlq = await (await json("/mailbox/dlq", { topic }, limits)).json<any>();
      expect(dlq.messages.map((m: any) => m.msg_id)).toEqual([body.msg_id]);
      expect(await metricsText()).toMatch(new RegExp(`^mailbox_dead_letters_total\\{topic="${topic}"\\} 1$`, "m"));
    });

    it("dead-letters a message whose last delivery expires unacked", async () => {
      const topic = topicName();
      const limits = { ...overrides, MAILBOX_MAX_ATTEMPTS: "1" };
      await send(topic, "expires", limits);
      expect(await recv(topic, limits, 50)).toHaveLength(1);
      await sleep(80);
      expect(await recv(topic, limits)).toHaveLength(0);
      expect((await (await json("/mailbox/dlq", { topic }, limits)).json<any>()).messages).toHaveLength(1);
    });

    it("keeps at most MAILBOX_DLQ_CAPACITY dead letters per topic, dropping the oldest and counting them", async () => {
      const topic = topicName();
      const limits = { ...overrides, MAILBOX_MAX_ATTEMPTS: "1", MAILBOX_DLQ_CAPACITY: "2", MAILBOX_METRIC_TOPICS: "10000" };
      const sent = [];
      for (let i = 0; i < 3; i++) sent.push((await send(topic, `dead ${i}`, limits)).body.msg_id);
      for (const _ of sent) {
        expect(await recv(topic, limits, 20, 1)).toHaveLength(1);
        await sleep(30); // its only delivery expires unacked
      }
      expect(await recv(topic, limits)).toHaveLength(0); // buries the last one
      const dlq = await (await json("/mailbox/dlq", { topic, max_messages: 100 }, limits)).json<any>();
      expect(dlq.messages.map((m: any) => m.msg_id).sort()).toEqual(sent.slice(1).sort());
      const text = await metricsText();
      expect(text).toMatch(new RegExp(`^mailbox_dead_letters\\{topic="${topic}"\\} 2$`, "m"));
      expect(text).toMatch(new RegExp(`^mailbox_dead_letters_dropped_total\\{topic="${topic}",cause="capacity"\\} 1$`, "m"));
    });

    it("forgets dead letters after MAILBOX_DLQ_TTL_S", async () => {
      const topic = topicName();
      const limits = { ...overrides, MAILBOX_MAX_ATTEMPTS: "1", MAILBOX_DLQ_TTL_S: "1", MAILBOX_METRIC_TOPICS: "10000" };
      await send(topic, "short-lived dead letter", limits);
      expect(await recv(topic, limits, 20)).toHaveLength(1);
      await sleep(30);
      expect(await recv(topic, limits)).toHaveLength(0);
      expect((await (await json("/mailbox/dlq", { topic }, limits)).json<any>()).messages).toHaveLength(1);
      await sleep(1_050);
      expect((await (await json("/mailbox/dlq", { topic }, limits)).json<any>()).messages).toHaveLength(0);
      const text = await metricsText();
      expect(text).toMatch(new RegExp(`^mailbox_dead_letters\\{topic="${topic}"\\} 0$`, "m"));
      expect(text).toMatch(new RegExp(`^mailbox_dead_letters_dropped_total\\{topic="${topic}",cause="expired"\\} 1$`, "m"));
    });

    it("caps the topics holding state at MAILBOX_MAX_TOPICS (429 topic_limit), and an emptied topic gives its place back", async () => {
      // a short dedupe window (and so ack memory) lets a drained topic empty within the test
      const quick = { ...overrides, MAILBOX_DEDUPE_S: "2", WEBHOOK_TOLERANCE_S: "1" };
      const topicsNow = async () => Number(/^mailbox_topics (\d+)$/m.exec(await metricsText({}, quick))?.[1]);
      await recv(topicName(), quick); // reading a made-up topic creates nothing
      const base = await topicsNow();
      const knobs = { ...quick, MAILBOX_MAX_TOPICS: String(base + 1) };
      const [first, second] = [topicName(), topicName()];
      expect((await send(first, "a", knobs)).response.status).toBe(200);
      expect(await topicsNow()).toBe(base + 1);
      const refusalsBefore = Number(/^mailbox_topic_refusals_total (\d+)$/m.exec(await metricsText())?.[1]);
      const refused = await send(second, "b", knobs);
      expect(refused.response.status).toBe(429);
      expect(await envelopeOf(refused.response)).toMatchObject({ code: "TOO_MANY_REQUESTS", reason: "topic_limit", retryable: true });
      expect(refused.response.headers.get("retry-after")).toBe("5");
      expect(Number(/^mailbox_topic_refusals_total (\d+)$/m.exec(await metricsText())?.[1])).toBe(refusalsBefore + 1);
      expect((await send(first, "more for a topic that exists", knobs)).response.status).toBe(200);
      for (const m of await recv(first, knobs)) expect((await call(`/mailbox/ack/${m.msg_id}`, { method: "POST" }, knobs)).status).toBe(200);
      await sleep(2_100); // dedupe entries and ack memory expire: the first topic is empty
      expect((await send(second, "b", knobs)).response.status).toBe(200);
      expect(await topicsNow()).toBe(base + 1);
      expect(await recv(first, knobs)).toEqual([]);
    });

    it("refuses sends past the topic capacity with 429 BACKPRESSURE", async () => {
      const topic = topicName();
      const limits = { ...overrides, WORK_QUEUE_CAPACITY: "3" };
      for (let i = 0; i < 3; i++) expect((await send(topic, `m${i}`, limits)).response.status).toBe(200);
      const { response } = await send(topic, "m3", limits);
      expect(response.status).toBe(429);
      const envelope = await envelopeOf(response);
      expect(envelope).toMatchObject({ reason: "BACKPRESSURE", retryable: true });
      expect(response.headers.get("retry-after")).toBe("1");
      const [m] = await recv(topic, limits, 60_000, 1);
      await call(`/mailbox/ack/${m.msg_id}`, { method: "POST" }, limits);
      expect((await send(topic, "m4", limits)).response.status).toBe(200); // room again
    });
  });
}

describe("mailbox durability", () => {
  it("keeps an acknowledged send across Durable Object eviction in persistent mode", async () => {
    const topic = topicName();
    const persistent = { AMNESIA: "false" };
    const { body } = await send(topic, "survives eviction", persistent);
    await abortAllDurableObjects(); // every instance is torn down; only storage remains
    const [message] = await recv(topic, persistent);
    expect(message.msg_id).toBe(body.msg_id);
    expect(atob(message.payload_b64)).toBe("survives eviction");
  });

  it("keeps amnesia messages in memory across an eviction of the idle instance (not only until the next idle spell)", async () => {
    const topic = topicName();
    const { body } = await send(topic, "kept in RAM", {});
    await abortAllDurableObjects(); // what workerd does to an instance idle for ~10 s
    const [message] = await recv(topic, {});
    expect(message.msg_id).toBe(body.msg_id);
    expect(atob(message.payload_b64)).toBe("kept in RAM");
  });
});

describe("mailbox metrics", () => {
  it("folds topics past MAILBOX_METRIC_TOPICS into topic _other, so /metrics stays bounded", async () => {
    const knobs = { MAILBOX_METRIC_TOPICS: "0" };
    const topics = [topicName(), topicName(), topicName()];
    const before = Number(/^queue_depth\{queue="mailbox\._other"\} (\d+)$/m.exec(await metricsText())?.[1] ?? 0);
    for (const topic of topics) expect((await send(topic, "folded", knobs)).response.status).toBe(200);
    const text = await metricsText();
    for (const topic of topics) expect(text).not.toContain(topic);
    expect(Number(/^queue_depth\{queue="mailbox\._other"\} (\d+)$/m.exec(text)?.[1])).toBe(before + 3);
  });
});

describe("mailbox bad input and auth", () => {
  it("answers bad requests with 400 naming the field", async () => {
    for (const [body, reason] of [
      [{ topic: "UPPER", idem_key: "k", payload_b64: "" }, "bad_body"],
      [{ topic: "t", idem_key: "k", payload_b64: "", extra: 1 }, "bad_body"],
      [{ topic: "t", idem_key: "", payload_b64: "" }, "bad_body"],
      [{ topic: "t", idem_key: "k", payload_b64: "!!" }, "bad_base64"],
    ] as const) {
      const response = await json("/mailbox/send", body);
      expect(response.status).toBe(400);
      expect((await envelopeOf(response)).reason).toBe(reason);
    }
    const notJson = await call("/mailbox/recv", { method: "POST", body: "{", headers: { "Content-Type": "application/json" } });
    expect((await envelopeOf(notJson)).reason).toBe("bad_json");
    expect((await json("/mailbox/recv", { topic: "t", max_messages: 1000 })).status).toBe(400);
    expect((await call("/mailbox/ack/not-an-id", { method: "POST" })).status).toBe(404);
    expect((await call("/mailbox/ack/t:" + crypto.randomUUID(), { method: "GET" })).status).toBe(405);
  });

  it("words the refusal in zod's English messages (zod/mini carries none of its own: shared/zod.ts installs them)", async () => {
    for (const [path, body, message] of [
      ["/mailbox/send", { topic: "t", idem_key: "", payload_b64: "" }, "idem_key: Too small: expected string to have >=1 characters"],
      ["/mailbox/send", { topic: "t", idem_key: "k", payload_b64: "", extra: 1 }, 'body: Unrecognized key: "extra"'],
      ["/mailbox/send", { topic: "t", idem_key: "k", payload_b64: 5 }, "payload_b64: Invalid input: expected string, received number"],
      ["/mailbox/recv", { topic: "t", max_messages: 1000 }, "max_messages: Too big: expected number to be <=100"],
    ] as const) {
      const response = await json(path, body);
      expect(response.status).toBe(400);
      expect(await envelopeOf(response)).toMatchObject({ reason: "bad_body", message });
    }
  });
});
