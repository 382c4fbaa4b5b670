/** @module What a mailbox topic name may be (no imports, so request schemas can use it anywhere). */
export const TOPIC = /^[a-z0-9._-]{1,64}$/;
