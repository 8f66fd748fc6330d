// A production server that runs only the operations GraphQL Code Generator
// wrote into persisted-documents.json (`chitieu serve --persisted-only`):
// the client sends a hash, never a query text, and anything else is
// refused with PERSISTED_QUERY_REQUIRED.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { FindIndicatorDocument } from "./gql/graphql.js";
import { tokens } from "./client.js";

const url = process.env.CHITIEU_PERSISTED_URL;
const skip = url ? false : "no persisted-only server (CHITIEU_PERSISTED_URL)";

test("an allow-listed client sends hashes only", { skip }, async () => {
  const documents = JSON.parse(
    await readFile(new URL("../src/gql/persisted-documents.json", import.meta.url), "utf8"),
  ) as Record<string, string>;
  const hash = (FindIndicatorDocument as unknown as { __meta__: { hash: string } }).__meta__.hash;
  assert.ok(documents[hash], "the generated document is in the generated list");
  const post = async (body: unknown) => {
    const response = await fetch(url!, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${tokens["persisted.viewer"]}` },
      body: JSON.stringify(body),
    });
    return (await response.json()) as any;
  };
  const found = await post({
    variables: { name: "Sản lượng lúa" },
    extensions: { persistedQuery: { version: 1, sha256Hash: hash } },
  });
  assert.equal(found.errors, undefined, JSON.stringify(found.errors));
  assert.ok(found.data.indicators.totalCount > 0);
  const refused = await post({ query: "{ principals { id } }" });
  assert.equal(refused.errors[0].extensions.code, "PERSISTED_QUERY_REQUIRED");
  assert.equal(refused.data, undefined);
});
