/**
 * Keep-alive connections survive refusals, over real sockets to the local runtime (the bundled
 * micronode served by Miniflare/workerd on 127.0.0.1). A request refused before its body is read
 * used to leave the body on the wire; workerd then closed the connection, so the next request on
 * it failed. Every wait here is bounded by a timer.
 */
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: plain JS module of the load harness
import { authHeaders, bundleWorker, micronodeOptions, serve } from "../../load/driver/targets.mjs";

const TIMEOUT_MS = 1_000; // REQUEST_TIMEOUT_MS of the served worker
const VARS = { MAX_BODY_BYTES: "1024", BODY_DRAIN_MAX_BYTES: "65536", REQUEST_TIMEOUT_MS: String(TIMEOUT_MS) };

let target: { mf: { dispose(): Promise<void> }; url: string };
let port = 0;
const state = mkdtempSync(join(tmpdir(), "ron-keep-alive-"));
const build = join(tmpdir(), `ron-keep-alive-build-${process.pid}`);

beforeAll(async () => {
  target = await serve(micronodeOptions(bundleWorker({ outDir: build }), VARS), { persistDir: state });
  port = Number(new URL(target.url).port);
});
afterAll(async () => {
  await target?.mf.dispose();
  rmSync(state, { recursive: true, force: true });
  rmSync(build, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: string;
}

/** One raw HTTP/1.1 connection: write request bytes, read Content-Length framed answers. */
class Connection {
  private buffered = Buffer.alloc(0);
  private wake: () => void = () => {};
  closed = false;
  readonly socket: net.Socket;

  constructor() {
    this.socket = net.connect(port, "127.0.0.1");
    this.socket.on("data", (data: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, data]);
      this.wake();
    });
    this.socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    this.socket.on("error", () => {}); // a reset shows up as `closed`
  }

  write(bytes: string) {
    this.socket.write(bytes);
  }

  /** The next answer, or an Error saying the connection closed or stayed silent for `ms`. */
  async answer(ms: number): Promise<Answer> {
    const deadline = Date.now() + ms;
    for (;;) {
      const end = this.buffered.indexOf("\r\n\r\n");
      if (end >= 0) {
        const head = this.buffered.subarray(0, end).toString();
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? NaN);
        if (Number.isNaN(length)) throw new Error(`answer without Content-Length: ${head}`);
        if (this.buffered.length >= end + 4 + length) {
          const body = this.buffered.subarray(end + 4, end + 4 + length).toString();
          this.buffered = this.buffered.subarray(end + 4 + length);
          return { status: Number(head.split(" ")[1]), body };
        }
      }
      if (this.closed) throw new Error("connection closed before an answer");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no answer within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Resolves when the runtime closes the connection, or rejects after `ms`. */
  async closedWithin(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() >= deadline) throw new Error(`still open after ${ms} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close() {
    this.socket.destroy();
  }
}

const request = (method: string, path: string, headers: Record<string, string | number>, body = "") =>
  `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("")}\r\n${body}`;
const HEALTH = request("GET", "/healthz", {});
const reasonOf = (answer: Answer) => JSON.parse(answer.body).reason;
const chunked = (text: string) => `${text.length.toString(16)}\r\n${text}\r\n0\r\n\r\n`;

describe("a keep-alive connection after a refused request", () => {
  const body = "b".repeat(2_000);
  const refusals: [string, string, number, string?][] = [
    ["413: Content-Length over MAX_BODY_BYTES", request("POST", "/put", { "Content-Type": "application/octet-stream", "Content-Length": body.length }, body), 413, "body_cap"],
    ["413: PUT /edge/assets with a too-large length", request("PUT", "/edge/assets/big.txt", { "Content-Length": body.length }, body), 413, "body_cap"],
    ["404: unknown route with a body", request("POST", "/no-such-route", { "Content-Length": 500 }, body.slice(0, 500)), 404],
    ["405: wrong method with a body", request("DELETE", "/put", { "Content-Length": 500 }, body.slice(0, 500)), 405],
    ["401: write route without a token, body unread", request("POST", "/mailbox/send", { "Content-Type": "application/json", "Content-Length": 500 }, body.slice(0, 500)), 401, "missing_token"],
    ["404: chunked body", request("POST", "/no-such-route", { "Transfer-Encoding": "chunked" }, chunked(body.slice(0, 700))), 404],
  ];

  it.each(refusals)("%s: the next request on it answers at once", async (_name, refused, status, reason) => {
    const connection = new Connection();
    connection.write(refused);
    const answer = await connection.answer(TIMEOUT_MS);
    expect(answer.status).toBe(status);
    if (reason) expect(reasonOf(answer)).toBe(reason);
    const started = Date.now();
    connection.write(HEALTH);
    const next = await connection.answer(TIMEOUT_MS);
    expect(next).toEqual({ status: 200, body: '{"ok":true}' });
    expect(Date.now() - started).toBeLessThan(500);
    connection.close();
  }, 10_000);

  it("a body trickled to a refusing route is cut at REQUEST_TIMEOUT_MS: the refusal answers, then the connection closes", async () => {
    const connection = new Connection();
    const started = Date.now();
    connection.write(request("POST", "/no-such-route", { "Content-Length": 1_000 }));
    const drip = setInterval(() => connection.socket.writable && connection.write("xxxxx"), 100); // 5 B / 100 ms: 20 s for the whole body
    try {
      const answer = await connection.answer(TIMEOUT_MS + 1_000);
      expect(answer.status).toBe(404);
      expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 100); // it was read while it came
      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 700);
      await connection.closedWithin(1_000);
    } finally {
      clearInterval(drip);
      connection.close();
    }
  }, 10_000);

  it("a body trickled to a route that reads it gets 503 TIMEOUT within REQUEST_TIMEOUT_MS", async () => {
    const connection = new Connection();
    const started = Date.now();
    connection.write(request("POST", "/put", authHeaders({ "Content-Type": "application/octet-stream", "Content-Length": 1_000 })));
    const drip = setInterval(() => connection.socket.writable && connection.write("xxxxx"), 100);
    try {
      const answer = await connection.answer(TIMEOUT_MS + 1_000);
      expect(answer.status).toBe(503);
      expect(reasonOf(answer)).toBe("TIMEOUT");
      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 700);
    } finally {
      clearInterval(drip);
      connection.close();
    }
  }, 10_000);

  it("bodies the worker will not drain are refused at once: over BODY_DRAIN_MAX_BYTES, or behind Expect: 100-continue", async () => {
    const undrained: Record<string, string | number>[] = [{ "Content-Length": 100_000 }, { "Content-Length": 2_000, Expect: "100-continue" }];
    for (const headers of undrained) {
      const connection = new Connection();
      const started = Date.now();
      connection.write(request("POST", "/put", { "Content-Type": "application/octet-stream", ...headers })); // no body bytes sent
      const answer = await connection.answer(TIMEOUT_MS);
      expect(answer.status).toBe(413);
      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS / 2);
      await connection.closedWithin(1_000); // the unread body is cancelled: the connection cannot be reused
      connection.close();
    }
  }, 10_000);
});
