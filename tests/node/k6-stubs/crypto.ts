// Stand-in for k6's `k6/crypto` in Node tests, backed by node:crypto.
import { createHmac } from "node:crypto";
export default {
  hmac: (algorithm: string, secret: string, data: string, encoding: "hex") => createHmac(algorithm, secret).update(data).digest(encoding),
};
