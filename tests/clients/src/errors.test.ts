// What a client meets on bad input: every error carries extensions.code,
// and the codes are the ones the schema documents.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { raw, tokens } from "./client.js";

const cases: { name: string; body: unknown; token?: string; code: string; status?: number }[] = [
  { name: "malformed Decimal", body: { query: 'mutation { reportActual(input: {indicator: "x", value: {amount: "1,5e3"}, refersTo: "2025-12-31", status: ESTIMATE}) { position } }' }, token: "reporter", code: "VALIDATION" },
  { name: "JSON number for a Decimal", body: { query: "mutation($v: Decimal) { reportActual(input: {indicator: \"x\", value: {amount: $v}, refersTo: \"2025-12-31\", status: ESTIMATE}) { position } }", variables: { v: 1500 } }, token: "reporter", code: "VALIDATION" },
  { name: "bad Date", body: { query: '{ indicators(asOf: "yesterday") { totalCount } }' }, token: "viewer", code: "VALIDATION" },
  { name: "unknown field", body: { query: "{ nonsense }" }, token: "viewer", code: "VALIDATION" },
  { name: "too deep", body: { query: "{ indicators { edges { node { history { edges { node { document { title } } } } } } } }" }, token: "viewer", code: "LIMIT_EXCEEDED" },
  { name: "too complex", body: { query: "{ indicators(first: 100) { edges { node { history(first: 100) { edges { node { document { title } } } } } } } }" }, token: "auditor", code: "LIMIT_EXCEEDED" },
  { name: "no token for an audit read", body: { query: "{ auditTrail(first: 1) { totalCount } }" }, code: "UNAUTHENTICATED", status: 401 },
  { name: "a forged token", body: { query: "{ today }" }, token: "ct_forged", code: "UNAUTHENTICATED", status: 401 },
];

test("every error a client can provoke carries a documented code", async () => {
  const schema = await readFile(new URL("../../../schema.graphql", import.meta.url), "utf8");
  const found = await raw({ query: '{ indicators(filter: {name: "Sản lượng lúa"}, first: 1) { nodes { id } } }' }, tokens.viewer);
  const rice = found.body.data.indicators.nodes[0].id as string;
  cases.push({
    name: "a viewer writing",
    body: { query: `mutation { reportActual(input: {indicator: "${rice}", value: {amount: "1"}, refersTo: "2025-12-31", status: ESTIMATE}) { position } }` },
    token: "viewer",
    code: "FORBIDDEN",
  });
  for (const c of cases) {
    const token = c.token === undefined ? undefined : (tokens[c.token] ?? c.token);
    const reply = await raw(c.body, token);
    const errors = reply.body.errors as { extensions?: { code?: string } }[] | undefined;
    assert.ok(errors?.length, `${c.name}: no error in ${JSON.stringify(reply.body)}`);
    for (const e of errors) {
      assert.equal(e.extensions?.code, c.code, `${c.name}: ${JSON.stringify(e)}`);
    }
    if (c.status) assert.equal(reply.status, c.status, c.name);
    assert.ok(schema.includes(`\`${c.code}\``), `schema.graphql does not document ${c.code}`);
  }
});
