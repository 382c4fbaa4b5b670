// Gossip between two overlay sessions: one subscribes to a topic, the other publishes to it.
// Against `npm start`: npm run -s ts -- sdk/examples/gossip.ts   (RON_URL / PORT and RON_TOKEN as for npm run overlay)
import { readFileSync } from "node:fs";
import WebSocket from "ws"; // browsers and Node 22+ have a global WebSocket; Node 20 needs the `ws` package
import { connectOverlay } from "../index";

const url = (process.env.RON_URL ?? `http://127.0.0.1:${process.env.PORT ?? "8787"}`).replace(/^http/, "ws") + "/overlay";
const token = process.env.RON_TOKEN ?? readFileSync(".ron/dev-token", "utf8").trim();
const open = () => connectOverlay({ url, WebSocket, token, socketOptions: { perMessageDeflate: false } });

const subscriber = await open();
const publisher = await open();
let deliver!: (text: string) => void;
const delivered = new Promise<string>((resolve) => (deliver = resolve));
// resolves once the server has confirmed the subscription: a publish from now on reaches it
await subscriber.subscribe("news", (event) => deliver(new TextDecoder().decode(event.data)));
const published = await publisher.publish("news", new TextEncoder().encode("hello from another session"));
console.log(JSON.stringify(published)); // {"id":"…","duplicate":false,"subscribers":1}
console.log(JSON.stringify({ delivered: await delivered })); // {"delivered":"hello from another session"}
subscriber.close();
publisher.close();
