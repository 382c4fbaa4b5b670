// Records a V8 CPU profile of one workerd worker over its inspector (Chrome DevTools Protocol on
// 127.0.0.1). workerd lists each worker as `core:user:<name>` on GET /json/list; the Durable
// Objects of a worker run in its isolate, so their time is in the same profile.
import WebSocket from "ws";

const COMMAND_TIMEOUT_MS = 30_000; // Profiler.stop serialises the whole profile: allow it time

/** The inspector's entry for worker `name` (its webSocketDebuggerUrl). Loopback only. */
export async function findWorkerTarget(port, name) {
  const response = await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(5_000) });
  const targets = await response.json();
  const id = `core:user:${name}`;
  const target = targets.find((t) => t.id === id);
  if (!target) throw new Error(`no inspector target "${id}" on 127.0.0.1:${port}; found: ${targets.map((t) => t.id).join(", ")}`);
  const url = new URL(target.webSocketDebuggerUrl);
  if (url.hostname !== "127.0.0.1" && url.hostname !== "localhost") throw new Error(`inspector target is not on loopback: ${url.host}`);
  url.hostname = "127.0.0.1";
  return { id, url: url.toString() };
}

/** A DevTools protocol session: `send(method, params)` resolves with the result or rejects. */
async function openSession(url, onEvent = () => {}) {
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1024 * 1024 * 1024 });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`inspector did not accept a connection within 5 s: ${url}`)), 5_000);
    ws.once("open", () => (clearTimeout(timer), resolve()));
    ws.once("error", (e) => (clearTimeout(timer), reject(e)));
  });
  let nextId = 1;
  const pending = new Map();
  ws.on("message", (data) => {
    const message = JSON.parse(data.toString());
    const waiter = message.id !== undefined ? pending.get(message.id) : undefined;
    if (!waiter) {
      if (message.method) onEvent(message.method, message.params);
      return;
    }
    pending.delete(message.id);
    clearTimeout(waiter.timer);
    if (message.error) waiter.reject(new Error(`${waiter.method}: ${message.error.message}`));
    else waiter.resolve(message.result);
  });
  ws.on("close", () => {
    for (const waiter of pending.values()) waiter.reject(new Error(`inspector closed during ${waiter.method}`));
    pending.clear();
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => (pending.delete(id), reject(new Error(`${method}: no answer within ${COMMAND_TIMEOUT_MS} ms`))), COMMAND_TIMEOUT_MS);
      pending.set(id, { method, resolve, reject, timer });
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => ws.close() };
}

/**
 * Start profiling worker `worker` behind inspector `port` now; resolves once sampling has begun
 * with `{ done }`, a promise of the profile (Profiler.stop's `profile`) after `seconds`.
 */
export async function startCpuProfile({ port, worker = "micronode", seconds, samplingIntervalUs = 100 }) {
  if (!(seconds > 0)) throw new Error(`seconds must be positive, got ${seconds}`);
  const target = await findWorkerTarget(port, worker);
  const session = await openSession(target.url);
  try {
    await session.send("Profiler.enable");
    await session.send("Profiler.setSamplingInterval", { interval: samplingIntervalUs });
    await session.send("Profiler.start");
  } catch (error) {
    session.close();
    throw error;
  }
  const done = new Promise((resolve) => setTimeout(resolve, seconds * 1000))
    .then(() => session.send("Profiler.stop"))
    .then(({ profile }) => profile)
    .finally(() => session.close());
  done.catch(() => {}); // the caller awaits it after the load run; don't crash on an early failure
  return { target: target.id, done };
}

/**
 * A V8 heap reader for worker `name` behind inspector `port`: `usage()` collects garbage first
 * (so what is left is retained, not garbage waiting for a collection) and resolves with the
 * isolate's `{ usedSize, totalSize }` in bytes (Runtime.getHeapUsage). RSS alone cannot tell a
 * growing JavaScript heap from native memory (workerd, SQLite, the allocator).
 */
export async function openHeapReader({ port, worker = "micronode" }) {
  const target = await findWorkerTarget(port, worker);
  let chunks = null;
  const session = await openSession(target.url, (method, params) => {
    if (method === "HeapProfiler.addHeapSnapshotChunk" && chunks) chunks.push(params.chunk);
  });
  return {
    /**
     * `{ usedSize, totalSize }` before a GC (what the heap holds, garbage included, and has
     * committed), then `collected` (used after a full GC), each null when the inspector does not
     * answer within 10 s: measured, never a reason to stop.
     */
    async usage() {
      const within = (promise) => Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error("no answer within 10 s")), 10_000))]);
      const read = async (what) => {
        try {
          return await what();
        } catch (error) {
          console.error(`heap usage not read: ${error.message}`);
          return null;
        }
      };
      const before = await read(() => within(session.send("Runtime.getHeapUsage")));
      const after = await read(async () => (await within(session.send("HeapProfiler.collectGarbage")), await within(session.send("Runtime.getHeapUsage"))));
      return before || after ? { usedSize: before?.usedSize ?? null, totalSize: before?.totalSize ?? null, collected: after?.usedSize ?? null } : null;
    },
    /** A heap snapshot (the .heapsnapshot JSON text DevTools' Memory panel opens). */
    async snapshot() {
      chunks = [];
      try {
        await session.send("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
        return chunks.join("");
      } finally {
        chunks = null;
      }
    },
    close: () => session.close(),
  };
}
