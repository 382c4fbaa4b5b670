/**
 * @module The WebSocket surface the SDK needs, met by browsers' WebSocket, Node's (22+, or 20
 * with --experimental-websocket), the `ws` package and workerd's accepted sockets.
 */

export interface WebSocketLike {
  send(data: Uint8Array | ArrayBuffer): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (event: any) => void): void;
  binaryType?: string;
  readyState?: number;
}

export type WebSocketConstructorLike = new (url: string, options?: any) => WebSocketLike;

/**
 * Open a socket to `url` and wait until it is open (or fails). `options` goes to the
 * constructor as its second argument, for implementations that take options there (the `ws`
 * package: `{ perMessageDeflate: false }`); browsers take protocols there, so leave it unset.
 */
export function openSocket(url: string, Impl?: WebSocketConstructorLike, options?: object): Promise<WebSocketLike> {
  const Ctor = Impl ?? (globalThis as { WebSocket?: WebSocketConstructorLike }).WebSocket;
  if (!Ctor) throw new Error("no WebSocket implementation: pass one (e.g. the `ws` package) as `WebSocket`");
  if (!url) throw new Error("connectOverlay needs a url or a socket");
  const socket = options ? new Ctor(url, options) : new Ctor(url);
  socket.binaryType = "arraybuffer";
  return new Promise((resolve, reject) => {
    socket.addEventListener("open", () => resolve(socket));
    socket.addEventListener("error", (event: { message?: string }) => reject(new Error(`cannot open ${url}: ${event?.message ?? "connection failed"}`)));
    socket.addEventListener("close", (event: { code?: number; reason?: string }) => reject(new Error(`closed before open (${event?.code} ${event?.reason ?? ""})`)));
  });
}
