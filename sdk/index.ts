/**
 * @module ron-workers SDK: overlay sessions (handshake, verified object fetch, gossip) and the
 * interop HTTP calls. Works in browsers, Node and workerd. docs/SDK.md shows it in use.
 */
export { connectOverlay, IntegrityError, OverlayClient, OverlayClosedError, OverlayError, prepareUpgradeHello, type ConnectOptions, type GossipEvent, type PublishResult, type UpgradeHello } from "./overlay-client";
export { InteropClient, InteropError, signWebhook, type InteropClientOptions, type PutResult, type WebhookProviderName } from "./interop-client";
export type { MultipartOptions, MultipartResult } from "./multipart";
export { verifySlice, SliceError, SLICE_MEDIA_TYPE, type Blake3Tree, type SliceFault, type VerifiedSliceBytes } from "./proof";
export { attenuateToken as attenuate, inspectToken, CAPABILITY_OPS, type CapabilityOp, type CaveatSpec } from "../shared/capability";
export { HandshakeError } from "../shared/overlay/handshake";
export type { WebSocketLike, WebSocketConstructorLike } from "./socket";
