/**
 * @module The one-round-trip fast path (docs/OAP1.md §2): a client that can set headers on the
 * WebSocket upgrade sends its HELLO payload there, in `OAP-Hello` (unpadded base64url of the exact
 * bytes a HELLO frame would carry), and the server answers with READY as the socket's first frame.
 * In a header, not the URL: the HELLO holds the capability token, and URLs land in logs.
 * Also the shape in which the session object hands a refused header HELLO back to the worker,
 * which answers it as an HTTP refusal with the JSON error envelope.
 */
import { HandshakeError } from "../domain-errors";

export const HELLO_HEADER = "OAP-Hello";

/**
 * Longest header value taken, in characters. The largest HELLO the schema admits with a real
 * token is about 6.3 KiB of JSON (8.4 KiB as base64url); a hybrid HELLO is ~2.7 KiB of header.
 */
export const MAX_HELLO_HEADER_CHARS = 10_240;

/** READY answers the header HELLO with this correlation id (the SDK numbers its requests from 1). */
export const HEADER_HELLO_CORR_ID = 0n;

export function encodeHelloHeader(hello: Uint8Array): string {
  let binary = "";
  for (const byte of hello) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The HELLO payload in the header, or a refusal: too long (431) or not unpadded base64url (400 bad_hello). */
export function helloFromHeader(value: string): Uint8Array {
  if (value.length > MAX_HELLO_HEADER_CHARS) throw new HandshakeError("hello_too_large", 431, `${HELLO_HEADER} is over ${MAX_HELLO_HEADER_CHARS} characters`);
  if (!/^[A-Za-z0-9_-]+$/.test(value) || value.length % 4 === 1) throw new HandshakeError("bad_hello", 400, `${HELLO_HEADER} is not unpadded base64url`);
  const binary = atob(value.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** A header HELLO the session object refused, as it answers the worker (never a 101). */
export interface HelloRefusal {
  status: number;
  reason: string;
  message: string;
}

/** Marks the session object's refusal answer, so the worker tells it from any other non-101. */
const REFUSAL_HEADER = "x-ron-hello-refused";

export function helloRefusalResponse(error: HandshakeError): Response {
  return Response.json({ reason: error.reason, message: error.message }, { status: error.status, headers: { [REFUSAL_HEADER]: "1" } });
}

/** The refusal carried by the session object's answer, or undefined when the answer is not one. */
export async function helloRefusalOf(response: Response): Promise<HelloRefusal | undefined> {
  if (!response.headers.has(REFUSAL_HEADER)) return undefined;
  const { reason, message } = await response.json<Omit<HelloRefusal, "status">>();
  return { status: response.status, reason, message };
}
