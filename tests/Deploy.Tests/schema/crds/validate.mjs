// Strict validation of custom resources whose schemas no npm package ships (the validator next door,
// ../validate.mjs, covers the Kubernetes APIs and the CRDs of the @kubernetes-models packages):
//
//   node validate.mjs --modules <node_modules> < documents.json     (a JSON array of objects)
//
// Schemas live beside this file as <group>/<version>/<Kind>.json: JSON Schemas written from each project's CRD,
// with additionalProperties false wherever the CRD lists properties, so an unknown or misspelt field is an error.
// Prints {"errors": ["Kind/name: /path: message", ...]} and exits 1 when there is any; a kind without a schema is
// an error, never a pass.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const modulesAt = process.argv.indexOf("--modules");
if (modulesAt < 0 || !process.argv[modulesAt + 1]) {
  console.error("usage: node validate.mjs --modules <node_modules> < documents.json");
  process.exit(2);
}
const modules = process.argv[modulesAt + 1];
const { default: Ajv } = await import(pathToFileURL(join(modules, "ajv", "dist", "ajv.js")).href);
// Strict about the schemas themselves (unknown keywords, missing types), except `required` inside oneOf/anyOf
// branches, which names properties declared one level up (the CRDs' "exactly one of" rules).
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
const here = dirname(fileURLToPath(import.meta.url));

const validators = new Map();
function validatorFor(apiVersion, kind) {
  const key = `${apiVersion}/${kind}`;
  if (!validators.has(key)) {
    const file = join(here, ...apiVersion.split("/"), `${kind}.json`);
    validators.set(key, existsSync(file) ? ajv.compile(JSON.parse(readFileSync(file, "utf8"))) : null);
  }
  return validators.get(key);
}

const errors = [];
for (const document of JSON.parse(readFileSync(0, "utf8"))) {
  const name = `${document?.kind ?? "?"}/${document?.metadata?.name ?? "?"}`;
  const validate = typeof document?.apiVersion === "string" && typeof document?.kind === "string"
    ? validatorFor(document.apiVersion, document.kind)
    : undefined;
  if (validate === undefined) errors.push(`${name}: document has no apiVersion/kind`);
  else if (validate === null) errors.push(`${name}: no schema for ${document.apiVersion} ${document.kind} in ${here}`);
  else if (!validate(document))
    for (const e of validate.errors)
      errors.push(`${name}: ${e.instancePath || "/"}: ${e.message}${e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ""}`);
}
process.stdout.write(JSON.stringify({ errors }));
process.exitCode = errors.length ? 1 : 0;
