// Validate docs/events/asyncapi.yaml with the official AsyncAPI parser, protobuf payloads
// included (they are parsed to JSON Schema, so a malformed inline proto fails too).
//
//   NODE_PATH=<dir with @asyncapi/parser and @asyncapi/protobuf-schema-parser>/node_modules \
//     node tests/contract/validate_asyncapi.cjs [docs/events/asyncapi.yaml]
//
// Exits 1 on any error-severity diagnostic; warnings are printed.
"use strict";
const fs = require("fs");
const path = require("path");
const { Parser, DiagnosticSeverity } = require("@asyncapi/parser");
const { ProtoBuffSchemaParser } = require("@asyncapi/protobuf-schema-parser");

async function main() {
  const file = process.argv[2] || path.join(__dirname, "..", "..", "docs", "events", "asyncapi.yaml");
  const parser = new Parser();
  parser.registerSchemaParser(ProtoBuffSchemaParser());
  const { document, diagnostics } = await parser.parse(fs.readFileSync(file, "utf8"), {
    source: path.resolve(file),
  });
  let errors = 0;
  for (const d of diagnostics) {
    const level = d.severity === DiagnosticSeverity.Error ? "error" : "warning";
    if (level === "error") errors += 1;
    console.log(`${level}: ${d.code}: ${d.message} at /${(d.path || []).join("/")}`);
  }
  if (errors || !document) {
    console.log(`${file}: ${errors} error(s)`);
    process.exit(1);
  }
  const channels = document.channels().length;
  const messages = document.messages().length;
  console.log(`${file}: valid AsyncAPI ${document.version()}, ${channels} channels, ${messages} messages`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
