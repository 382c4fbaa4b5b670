// The env that `cloudflare:test` hands tests: the micronode worker's bindings and knobs.
type MicronodeTestEnv = import("../workers/micronode/index").MicronodeEnv;
declare namespace Cloudflare {
  interface Env extends MicronodeTestEnv {}
}
