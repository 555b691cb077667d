// Validates custom resources against the CustomResourceDefinitions that define them, the way the API server
// judges them (structural schemas, apiextensions.k8s.io/v1):
//
//   node crd-validate.mjs --modules <node_modules> < {"crds": [...], "objects": [...]}
//
// Prints {"errors": ["Kind/name: /path: message", ...], "validated": n} and exits 1 when there is any error. An
// object whose kind and version no given CRD serves is an error, never a pass.
//
// The API server does not reject an unknown field of a custom resource: it prunes it (drops it silently), unless
// the schema says x-kubernetes-preserve-unknown-fields. A misspelt key under prometheusSpec is therefore lost
// without a word. Here every field the schema does not declare is reported, which is the strictness the API
// server's pruning implies for the author. Translation to JSON Schema (ajv):
//   - properties without x-kubernetes-preserve-unknown-fields: additionalProperties false (pruned fields);
//   - x-kubernetes-int-or-string: integer or string;
//   - nullable: null allowed;
//   - x-kubernetes-embedded-resource: apiVersion, kind and metadata allowed (the API server adds them);
//   - the root's apiVersion, kind and metadata are the API server's (ObjectMeta is validated by it, not the CRD);
//   - x-kubernetes-validations (CEL rules) are not evaluated: no CEL engine here.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const modulesAt = process.argv.indexOf("--modules");
if (modulesAt < 0 || !process.argv[modulesAt + 1]) {
  console.error("usage: node crd-validate.mjs --modules <node_modules> < {crds, objects}");
  process.exit(2);
}
const modules = process.argv[modulesAt + 1];
const { default: Ajv } = await import(pathToFileURL(join(modules, "ajv", "dist", "ajv.js")).href);
// CRD patterns are Go (RE2) regular expressions: (?i) is Go's case-insensitive flag, which JavaScript spells as a
// flag of the whole expression (every (?i) in these CRDs stands at the start, after an optional ^).
function goRegExp(source, flags) {
  const insensitive = source.includes("(?i)");
  return new RegExp(source.replaceAll("(?i)", ""), insensitive ? flags + "i" : flags);
}
const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, code: { regExp: goRegExp } });

function structural(schema, root = false) {
  if (schema === null || typeof schema !== "object") return schema;
  const out = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith("x-kubernetes-") || key === "nullable" || key === "description" || key === "example" || key === "format") continue;
    if (key === "properties") out.properties = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, structural(v)]));
    else if (key === "items" || key === "not") out[key] = structural(value);
    else if (key === "additionalProperties") out.additionalProperties = typeof value === "object" ? structural(value) : value;
    else if (key === "allOf" || key === "anyOf" || key === "oneOf") out[key] = value.map((v) => structural(v));
    else out[key] = value;
  }
  if (schema["x-kubernetes-int-or-string"]) {
    delete out.type;
    out.anyOf = [...(out.anyOf ?? []), { type: "integer" }, { type: "string" }];
  }
  if (schema.nullable && out.type) out.type = [].concat(out.type, "null");
  const embedded = schema["x-kubernetes-embedded-resource"] || root;
  if (embedded) {
    out.properties = { ...(out.properties ?? {}), apiVersion: { type: "string" }, kind: { type: "string" }, metadata: { type: "object" } };
  }
  if (out.properties && !schema["x-kubernetes-preserve-unknown-fields"] && out.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}

const { crds, objects } = JSON.parse(readFileSync(0, "utf8"));
const validators = new Map();
for (const crd of crds) {
  const { group, names, versions } = crd.spec;
  for (const version of versions ?? []) {
    const schema = version.schema?.openAPIV3Schema;
    if (!schema) continue;
    validators.set(`${group}/${version.name}/${names.kind}`, () => ajv.compile(structural(schema, true)));
  }
}

const compiled = new Map();
const errors = [];
let validated = 0;
for (const object of objects) {
  const name = `${object?.kind ?? "?"}/${object?.metadata?.name ?? "?"}`;
  const key = `${object?.apiVersion}/${object?.kind}`;
  if (!validators.has(key)) {
    errors.push(`${name}: no CustomResourceDefinition serves ${object?.apiVersion} ${object?.kind}`);
    continue;
  }
  if (!compiled.has(key)) compiled.set(key, validators.get(key)());
  const validate = compiled.get(key);
  validated++;
  if (!validate(object)) {
    for (const e of validate.errors) {
      const extra = e.params?.additionalProperty;
      errors.push(extra
        ? `${name}: ${e.instancePath}/${extra}: unknown field (not in the ${object.kind} CRD's schema; the API server would prune it)`
        : `${name}: ${e.instancePath || "/"}: ${e.message}`);
    }
  }
}
process.stdout.write(JSON.stringify({ errors, validated }));
process.exitCode = errors.length ? 1 : 0;
