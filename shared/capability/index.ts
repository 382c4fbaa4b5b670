/** @module Capability tokens: ops, caveats, minting, attenuation and verification. */
export { CAPABILITY_OPS, isCapabilityOp, type CapabilityOp } from "./ops";
export { CapabilityDenied, denialStatus, type DenialReason } from "./errors";
export { caveatProblem, formatCaveats, grantJson, grantOf, judge, topicMatches, type CapabilityNeed, type CaveatSpec, type Grant } from "./caveats";
export { decodeRootKey, rootKeyOf, MIN_ROOT_KEY_BYTES, type Keyring, type RootKey } from "./root-key";
export { attenuateToken, inspectToken, mintToken, verifyToken, MAX_CAVEATS, MAX_TOKEN_CHARS, type VerifiedToken } from "./token";
export { authenticate, authorize, judgeOrThrow, keyringOf, keyringOfEnv, verifiedTokenId } from "./keyring";
