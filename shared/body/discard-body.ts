/**
 * @module Reading a request body only to throw it away, within a byte and a time budget, so the
 * connection it arrived on is free for the next request (see middleware/with-body-drain).
 */

export type DiscardOutcome = "drained" | "over_bytes" | "over_time" | "failed";

/**
 * Read `body` to its end and discard every byte. Past `maxBytes` or `ms` the rest is cancelled
 * instead; never throws, never leaves a read pending.
 */
export async function discardBody(body: ReadableStream<Uint8Array>, maxBytes: number, ms: number): Promise<DiscardOutcome> {
  const reader = body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outOfTime = new Promise<"over_time">((resolve) => {
    timer = setTimeout(() => resolve("over_time"), Math.max(0, ms));
  });
  let outcome: DiscardOutcome = "failed";
  try {
    let total = 0;
    for (;;) {
      const next = await Promise.race([reader.read(), outOfTime]);
      if (next === "over_time") {
        outcome = "over_time";
        break;
      }
      if (next.done) return (outcome = "drained");
      total += next.value.byteLength;
      if (total > maxBytes) {
        outcome = "over_bytes";
        break;
      }
    }
  } catch {
    outcome = "failed"; // the client went away mid-body: nothing left to keep
  } finally {
    clearTimeout(timer);
    if (outcome !== "drained") await reader.cancel(outcome).catch(() => {});
  }
  return outcome;
}
