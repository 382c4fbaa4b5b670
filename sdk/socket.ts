/**
 * @module The WebSocket surface the SDK needs, met by browsers' WebSocket, Node's (22+, or 20
 * with --experimental-websocket), the `ws` package and workerd's accepted sockets.
 */
import { joinChunks } from "../shared/bytes";

export interface WebSocketLike {
  send(data: Uint8Array | ArrayBuffer): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (event: any) => void): void;
  binaryType?: string;
  readyState?: number;
}

export type WebSocketConstructorLike = new (url: string, options?: any) => WebSocketLike;

/** The server answered the upgrade with an HTTP refusal instead of 101 (its JSON error envelope, when readable). */
export class UpgradeRefusedError extends Error {
  constructor(
    readonly status: number,
    readonly envelope: { reason?: string; message?: string },
  ) {
    super(`upgrade refused: ${status}${envelope.reason ? ` ${envelope.reason}` : ""}${envelope.message ? `: ${envelope.message}` : ""}`);
    this.name = "UpgradeRefusedError";
  }
}

/** What the `ws` package hands an `unexpected-response` listener (a Node response). */
interface NodeResponseLike {
  statusCode?: number;
  on(event: "data", listener: (chunk: Uint8Array) => void): void;
  on(event: "end" | "error", listener: () => void): void;
}

/** The `ws` package's extra event: the HTTP answer of a refused upgrade, which browsers never show. */
interface RefusalEvents {
  on?(event: "unexpected-response", listener: (request: unknown, response: NodeResponseLike) => void): void;
}

/**
 * Open a socket to `url` and wait until it is open (or fails). `options` goes to the
 * constructor as its second argument, for implementations that take options there (the `ws`
 * package: `{ perMessageDeflate: false }`); browsers take protocols there, so leave it unset.
 */
export function openSocket(url: string, Impl?: WebSocketConstructorLike, options?: object): Promise<WebSocketLike> {
  const { socket, opened } = createSocket(url, Impl, options);
  return opened.then(() => socket);
}

/**
 * The socket at once (so listeners can be added before its first message), and a promise that
 * settles when it is open. With the `ws` package, a refused upgrade rejects with
 * `UpgradeRefusedError` (status and envelope); elsewhere with a plain error.
 */
export function createSocket(url: string, Impl?: WebSocketConstructorLike, options?: object): { socket: WebSocketLike; opened: Promise<void> } {
  const Ctor = Impl ?? (globalThis as { WebSocket?: WebSocketConstructorLike }).WebSocket;
  if (!Ctor) throw new Error("no WebSocket implementation: pass one (e.g. the `ws` package) as `WebSocket`");
  if (!url) throw new Error("connectOverlay needs a url or a socket");
  const socket = options ? new Ctor(url, options) : new Ctor(url);
  socket.binaryType = "arraybuffer";
  const opened = new Promise<void>((resolve, reject) => {
    socket.addEventListener("open", () => resolve());
    socket.addEventListener("error", (event: { message?: string }) => reject(new Error(`cannot open ${url}: ${event?.message ?? "connection failed"}`)));
    socket.addEventListener("close", (event: { code?: number; reason?: string }) => reject(new Error(`closed before open (${event?.code} ${event?.reason ?? ""})`)));
    const events = socket as WebSocketLike & RefusalEvents;
    events.on?.("unexpected-response", (_request, response) => {
      const chunks: Uint8Array[] = [];
      const refuse = () => {
        let envelope = {};
        try {
          envelope = JSON.parse(new TextDecoder().decode(joinChunks(chunks))) ?? {};
        } catch {
          // not JSON: the status alone says what happened
        }
        reject(new UpgradeRefusedError(response.statusCode ?? 0, envelope));
        socket.close(); // still connecting: `ws` aborts the request and emits close
      };
      response.on("data", (chunk) => chunks.push(chunk));
      response.on("end", refuse);
      response.on("error", refuse);
    });
  });
  return { socket, opened };
}
