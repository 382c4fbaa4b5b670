// Stand-in for k6's `k6/http` in Node tests: records requests instead of sending them.
export const sent: { method: string; url: string; body: unknown; params: any }[] = [];
const response = (status: number) => ({ status, json: (path: string) => (path === "address" ? `b3:${"0".repeat(64)}` : null) });
export default {
  get: (url: string, params?: any) => (sent.push({ method: "GET", url, body: null, params }), response(200)),
  post: (url: string, body: unknown, params?: any) => (sent.push({ method: "POST", url, body, params }), response(201)),
  put: (url: string, body: unknown, params?: any) => (sent.push({ method: "PUT", url, body, params }), response(201)),
};
