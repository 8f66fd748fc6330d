// GraphQL Code Generator, pointed at the running server: the schema comes
// from its introspection (the way a client team gets it), never from the
// checked-in schema.graphql. CHITIEU_URL and CHITIEU_TOKEN are set by the
// harness (tests/api/clients.rs).
import type { CodegenConfig } from "@graphql-codegen/cli";

const url = process.env.CHITIEU_URL;
if (!url) throw new Error("CHITIEU_URL is not set: run this through `cargo test --test api clients`");

const config: CodegenConfig = {
  schema: [
    {
      [url]: {
        headers: { Authorization: `Bearer ${process.env.CHITIEU_TOKEN ?? ""}` },
      },
    },
  ],
  documents: ["operations/*.graphql"],
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: { persistedDocuments: { hashAlgorithm: "sha256" }, fragmentMasking: false },
      config: {
        scalars: { Decimal: "string", Date: "string", DateTime: "string", Int64: "number" },
        enumsAsTypes: true,
        strictScalars: false,
      },
    },
  },
  emitLegacyCommonJSImports: false,
  silent: true,
};

export default config;
