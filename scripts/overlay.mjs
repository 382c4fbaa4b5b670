#!/usr/bin/env node
// npm run overlay -- hello [--pq hybrid|off]                open a session, print what was negotiated
// npm run overlay -- fetch <b3:hex> [--out file]            fetch over a session (BLAKE3-verified)
// npm run overlay -- sub <topic> [--count N] [--seconds S]  {"subscribed":topic} once the server confirms,
//                                                          then each delivery as a JSON line
// npm run overlay -- pub <topic> <message> [--id ID]        publish, print {id,duplicate,subscribers}
// Common: --url ws://127.0.0.1:8787/overlay (default from RON_URL, else 127.0.0.1:${PORT:-8787});
// the session presents RON_TOKEN, else the dev token `npm start` wrote (.ron/dev-token), in HELLO.
// Uses the SDK (sdk/).
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { importTs } from "./import-ts.mjs";
import { baseUrl, devToken } from "./local-dev.mjs";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: "string" },
    pq: { type: "string", default: "hybrid" },
    out: { type: "string" },
    id: { type: "string" },
    count: { type: "string" },
    seconds: { type: "string", default: "30" },
  },
});
const base = values.url ?? baseUrl().replace(/^http/, "ws") + "/overlay";
const [command, ...args] = positionals;
const usage = "usage: npm run overlay -- hello | fetch <b3:hex> [--out f] | sub <topic> [--count N] [--seconds S] | pub <topic> <message> [--id ID]  [--url ws://…/overlay] [--pq hybrid|off]";
if (!["hello", "fetch", "sub", "pub"].includes(command) || (command !== "hello" && !args[0]) || (command === "pub" && args[1] === undefined)) {
  console.error(usage);
  process.exit(2);
}

const sdk = await importTs("sdk/index.ts");
const started = performance.now();
let session;
try {
  session = await sdk.connectOverlay({ url: base, WebSocket, socketOptions: { perMessageDeflate: false }, pq: values.pq, token: devToken() });
} catch (error) {
  const why = error.status ? `${error.status} ${error.reason ?? ""}: ${error.message}` : (error.cause?.code ?? error.code ?? error.message);
  console.error(`cannot open a session at ${base}: ${why}`);
  process.exit(1);
}
const handshakeMs = performance.now() - started;

try {
  if (command === "hello") {
    const { session: id, version, pq, limits } = session.session;
    console.log(JSON.stringify({ session: id, version, pq, limits, handshake_ms: Number(handshakeMs.toFixed(1)) }));
  } else if (command === "fetch") {
    const bytes = await session.fetch(args[0]);
    if (values.out) writeFileSync(values.out, bytes);
    console.log(JSON.stringify({ address: args[0], size: bytes.length, verified: true, ...(values.out ? { out: values.out } : {}) }));
  } else if (command === "pub") {
    console.log(JSON.stringify(await session.publish(args[0], new TextEncoder().encode(args[1]), values.id ? { id: values.id } : {})));
  } else {
    const limit = values.count ? Number(values.count) : Infinity;
    let seen = 0;
    let timer;
    const finished = new Promise((resolve) => (timer = setTimeout(resolve, Number(values.seconds) * 1000)));
    let finish;
    const enough = new Promise((resolve) => (finish = resolve));
    await session.subscribe(args[0], (event) => {
      console.log(JSON.stringify({ topic: event.topic, id: event.id, data: new TextDecoder().decode(event.data) }));
      if (++seen >= limit) finish();
    });
    // the server confirmed the subscription: a publish from now on reaches this subscriber
    console.log(JSON.stringify({ subscribed: args[0] }));
    await Promise.race([finished, enough]);
    clearTimeout(timer);
  }
} catch (error) {
  console.error(JSON.stringify({ error: error.name, status: error.status, reason: error.reason, message: error.message }));
  process.exitCode = 1;
} finally {
  session.close();
}
