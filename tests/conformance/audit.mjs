// GraphQL over HTTP conformance: graphql-http's own server audits, run against a live talentgraph server.
// Usage: node audit.mjs URL KEY  — prints one JSON line per audit: {id, name, status, reason}.
import { serverAudits } from "graphql-http";

const [url, key] = process.argv.slice(2);
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers || {});
  headers.set("authorization", `Bearer ${key}`);
  return fetch(input, { ...init, headers });
};
for (const audit of serverAudits({ url, fetchFn })) {
  const result = await audit.fn();
  console.log(JSON.stringify({ id: audit.id, name: audit.name, status: result.status, reason: result.reason ?? null }));
}
