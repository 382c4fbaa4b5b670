// wrangler bundles `*.txt` and `*.html` imports as Text modules (its default rules): strings that are
// not parsed as JavaScript at startup (the API document and its page, shared/openapi/serve.ts).
declare module "*.txt" {
  const text: string;
  export default text;
}
declare module "*.html" {
  const text: string;
  export default text;
}
