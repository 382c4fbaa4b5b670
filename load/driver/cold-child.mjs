// Child process for cold-start runs: serve one bundle with Miniflare and print its URL.
import { micronodeOptions, serve } from "./targets.mjs";

const target = await serve(micronodeOptions(process.argv[2]));
process.stdout.write(`URL ${target.url} ${target.pid}\n`);
process.on("SIGTERM", async () => {
  await target.mf.dispose();
  process.exit(0);
});
