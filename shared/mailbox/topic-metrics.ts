/**
 * @module Mailbox metrics with a bounded topic label: the first `MAILBOX_METRIC_TOPICS` topics an
 * isolate sees (and the service's own topics) get their own series; every other topic is folded
 * into `_other`, whose gauges are sums. So /metrics cannot grow with the number of topic names.
 */
import { metrics } from "../metrics";

export const OTHER_TOPICS = "_other";

/** Topics with their own series, first come first served (per isolate). */
const labelled = new Set<string>();
/** Last depth and dead-letter count of each folded topic, for the `_other` sums (bounded, oldest forgotten). */
const folded = new Map<string, { depth: number; dead: number }>();

export interface TopicMetricLimits {
  /** Topics with their own series. */
  labelled: number;
  /** Folded topics remembered for the sums (the topic cap bounds how many can hold state). */
  remembered: number;
  /** Topics that always get their own series. */
  own: (topic: string) => boolean;
}

/** The topic's label; only a send (`claim`) takes a free slot, so reads of made-up names cannot use them up. */
export function topicLabel(topic: string, limits: TopicMetricLimits, claim = false): string {
  if (labelled.has(topic)) return topic;
  if (limits.own(topic) || (claim && labelled.size < limits.labelled)) {
    labelled.add(topic);
    return topic;
  }
  return OTHER_TOPICS;
}

/** Record what an operation saw of a topic: its depth and, when known, its dead letters. */
export function observeTopic(topic: string, seen: { depth?: number; dead?: number }, limits: TopicMetricLimits, claim = false): void {
  const label = topicLabel(topic, limits, claim);
  if (label !== OTHER_TOPICS) {
    if (seen.depth !== undefined) metrics.queueDepth.set({ queue: `mailbox.${label}` }, seen.depth);
    if (seen.dead !== undefined) metrics.mailboxDeadLetters.set({ topic: label }, seen.dead);
    return;
  }
  const last = folded.get(topic) ?? { depth: 0, dead: 0 };
  folded.delete(topic); // re-inserted last: the map forgets the least recently seen first
  folded.set(topic, { depth: seen.depth ?? last.depth, dead: seen.dead ?? last.dead });
  while (folded.size > limits.remembered) folded.delete(folded.keys().next().value!);
  let depth = 0;
  let dead = 0;
  for (const v of folded.values()) {
    depth += v.depth;
    dead += v.dead;
  }
  metrics.queueDepth.set({ queue: `mailbox.${OTHER_TOPICS}` }, depth);
  metrics.mailboxDeadLetters.set({ topic: OTHER_TOPICS }, dead);
}
