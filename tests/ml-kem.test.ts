/**
 * The server's ML-KEM-768 (liboqs built to WASM, shared/overlay/ml-kem) against the clients'
 * @noble/post-quantum, inside workerd: both are FIPS 203, so keys from either side and
 * encapsulation by the other give the same shared secret, and both refuse the same bad keys.
 */
import { ml_kem768 } from "@noble/post-quantum/ml-kem.js";
import { describe, expect, it } from "vitest";
import { encodeBase64 } from "../shared/base64";
import { startClientHandshake } from "../shared/overlay/handshake";
import { ML_KEM_768, wasmMlKem768 } from "../shared/overlay/ml-kem";
import { CLOSE, parseJsonBytes } from "../shared/overlay/protocol";
import { TOKEN } from "./helpers";
import { FrameLog, helloFrame, openRawSocket } from "./overlay-helpers";

const ROUNDS = 16;

/** A key whose first coefficient is 4095 ≥ q = 3329: FIPS 203's modulus check must refuse it. */
function outOfRangeKey(publicKey: Uint8Array): Uint8Array {
  const bad = publicKey.slice();
  bad[0] = 0xff;
  bad[1]! |= 0x0f;
  return bad;
}

describe("ML-KEM-768: liboqs WASM (server) against @noble/post-quantum (clients)", () => {
  it("noble's keys, liboqs encapsulates, noble decapsulates: same secret, FIPS 203 sizes", async () => {
    const wasm = await wasmMlKem768();
    for (let i = 0; i < ROUNDS; i++) {
      const keys = ml_kem768.keygen();
      const { cipherText, sharedSecret } = wasm.encapsulate(keys.publicKey);
      expect(cipherText).toHaveLength(ML_KEM_768.cipherText);
      expect(sharedSecret).toHaveLength(ML_KEM_768.sharedSecret);
      expect(ml_kem768.decapsulate(cipherText, keys.secretKey)).toEqual(sharedSecret);
    }
  });

  it("liboqs's keys, noble encapsulates, liboqs decapsulates: same secret", async () => {
    const wasm = await wasmMlKem768();
    for (let i = 0; i < ROUNDS; i++) {
      const keys = wasm.keygen();
      expect(keys.publicKey).toHaveLength(ML_KEM_768.publicKey);
      expect(keys.secretKey).toHaveLength(ML_KEM_768.secretKey);
      const { cipherText, sharedSecret } = ml_kem768.encapsulate(keys.publicKey);
      expect(wasm.decapsulate(cipherText, keys.secretKey)).toEqual(sharedSecret);
      // and noble decapsulates with liboqs's secret key too: the key encodings match
      expect(ml_kem768.decapsulate(cipherText, keys.secretKey)).toEqual(sharedSecret);
    }
  });

  it("a tampered ciphertext gives both the same implicit-rejection secret, not the real one", async () => {
    const wasm = await wasmMlKem768();
    const keys = ml_kem768.keygen();
    const { cipherText, sharedSecret } = wasm.encapsulate(keys.publicKey);
    const tampered = cipherText.slice();
    tampered[7]! ^= 1;
    const rejected = ml_kem768.decapsulate(tampered, keys.secretKey);
    expect(rejected).not.toEqual(sharedSecret);
    expect(wasm.decapsulate(tampered, keys.secretKey)).toEqual(rejected);
  });

  it("refuses what noble refuses: a key failing the modulus check, and inputs of the wrong size", async () => {
    const wasm = await wasmMlKem768();
    const bad = outOfRangeKey(ml_kem768.keygen().publicKey);
    expect(() => ml_kem768.encapsulate(bad)).toThrow();
    expect(() => wasm.encapsulate(bad)).toThrow(/refused/);
    expect(() => wasm.encapsulate(new Uint8Array(1183))).toThrow(/1184 bytes/);
    expect(() => wasm.decapsulate(new Uint8Array(1088), new Uint8Array(10))).toThrow(/2400 bytes/);
  });

  it("a session refuses a hybrid HELLO whose ML-KEM key fails the modulus check: 400 bad_hello, close 1008", async () => {
    const client = await startClientHandshake({ pq: "hybrid", token: TOKEN });
    const hello = parseJsonBytes(client.hello) as { key_shares: Record<string, string> };
    const share = Uint8Array.from(atob(hello.key_shares.mlkem768!), (c) => c.charCodeAt(0));
    hello.key_shares.mlkem768 = encodeBase64(outOfRangeKey(share));
    const socket = await openRawSocket();
    const log = new FrameLog(socket);
    socket.send(helloFrame(hello));
    await log.until(() => log.closed !== undefined);
    expect(log.frames[0]!.code).toBe(400);
    expect(parseJsonBytes(log.frames[0]!.payload)).toMatchObject({ reason: "bad_hello" });
    expect(log.closed).toEqual({ code: CLOSE.POLICY, reason: "bad_hello" });
  });
});
