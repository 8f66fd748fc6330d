// A small typed client over fetch: documents come from GraphQL Code
// Generator (src/gql/, generated from the running server's introspection),
// so a field the server does not have fails `tsc`, not a user.
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";

export const url = required("CHITIEU_URL");
export const wsUrl = url.replace(/^http/, "ws");
export const tokens = JSON.parse(required("CHITIEU_TOKENS")) as Record<string, string>;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through \`cargo test --test api clients\``);
  return value;
}

export interface GraphQLError {
  message: string;
  extensions?: { code?: string; [key: string]: unknown };
}

export async function request<R, V>(
  document: TypedDocumentNode<R, V>,
  variables: V,
  token: string | undefined,
): Promise<{ status: number; data?: R; errors?: GraphQLError[] }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, {
    method: "POST",
    headers,
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as { data?: R; errors?: GraphQLError[] };
  return { status: response.status, ...body };
}

/** A raw request, for what typed documents cannot express (bad input). */
export async function raw(
  body: unknown,
  token?: string,
  extraHeaders: Record<string, string> = {},
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { "content-type": "application/json", ...extraHeaders };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}
