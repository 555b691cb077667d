// Strict schema validation of Kubernetes manifests (what `helm template` renders), offline.
//
//   node validate.mjs --modules <node_modules> [file.yaml ...]     (stdin when no file is given)
//
// Prints {"documents": [...], "errors": ["Kind/name: /path: message", ...]} as JSON and exits 1 when there is
// any error. Every document must have a schema: core and apps APIs from `kubernetes-models`, CRDs from the
// @kubernetes-models packages (Argo Rollouts, Argo CD, Prometheus Operator, cert-manager). A kind without a
// schema is an error, never a pass.
//
// Why the extra strictness: the kubernetes-models schemas leave `additionalProperties` open, so their
// validators accept `imagee:` or `successCondtion:` silently, and the API server would then drop the field
// just as silently (or, for CRDs with preserved unknown fields, keep a typo forever). The validators are
// generated code that reads every property its schema declares, and iterates the keys of maps; so a key that
// the validator never read is a key the schema does not know. Each object is wrapped in a Proxy that records
// the keys read, and every unread key is reported as an unknown field.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const args = process.argv.slice(2);
const modulesAt = args.indexOf("--modules");
if (modulesAt < 0 || !args[modulesAt + 1]) {
  console.error("usage: node validate.mjs --modules <node_modules> [file.yaml ...]");
  process.exit(2);
}
const modules = args[modulesAt + 1];
const files = args.filter((_, i) => i !== modulesAt && i !== modulesAt + 1);

const YAML = (await import(pathToFileURL(join(modules, "yaml", "dist", "index.js")).href)).default;

// API group → packages whose layout is <package>/<group>/<version>/<Kind>.js (core: <package>/<version>/<Kind>.js).
// argoproj.io is shared by Argo Rollouts and Argo CD, so both are tried.
const packagesByGroup = {
  "argoproj.io": ["@kubernetes-models/argo-rollouts", "@kubernetes-models/argo-cd"],
  "monitoring.coreos.com": ["@kubernetes-models/prometheus-operator"],
  "cert-manager.io": ["@kubernetes-models/cert-manager"],
  "acme.cert-manager.io": ["@kubernetes-models/cert-manager"],
};

async function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const candidates = (packagesByGroup[group] ?? ["kubernetes-models"]).map((pkg) =>
    join(modules, pkg, ...(group ? [group] : []), version, `${kind}.js`));
  for (const file of candidates) {
    try {
      const module = await import(pathToFileURL(file).href);
      if (module[kind]) return module[kind];
    } catch (e) {
      if (e.code !== "ERR_MODULE_NOT_FOUND") throw e;
    }
  }
  return null;
}

// Wraps value (recursively) so that every key a validator reads is recorded in `read` (object → Set of keys).
function tracked(value, read) {
  if (value === null || typeof value !== "object") return value;
  const keys = new Set();
  const copy = Array.isArray(value)
    ? value.map((item) => tracked(item, read))
    : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, tracked(v, read)]));
  const proxy = new Proxy(copy, {
    get(target, key, receiver) {
      if (typeof key === "string") keys.add(key);
      return Reflect.get(target, key, receiver);
    },
    has(target, key) {
      if (typeof key === "string") keys.add(key);
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      for (const key of Reflect.ownKeys(target)) if (typeof key === "string") keys.add(key);
      return Reflect.ownKeys(target);
    },
  });
  read.set(proxy, { original: copy, keys });
  return proxy;
}

function unknownFields(root, read) {
  const unknown = [];
  const walk = (node, path) => {
    if (node === null || typeof node !== "object") return;
    const entry = read.get(node);
    const original = entry.original;
    if (Array.isArray(original)) {
      original.forEach((item, i) => walk(item, `${path}/${i}`));
      return;
    }
    for (const [key, child] of Object.entries(original)) {
      if (!entry.keys.has(key)) unknown.push(`${path}/${key}`);
      else walk(child, `${path}/${key}`);
    }
  };
  walk(root, "");
  return unknown;
}

// An ApplicationSet's matrix or merge generator nested in another is free-form in the CRD
// (x-kubernetes-preserve-unknown-fields); the controller reads it as a matrix/merge generator of its own
// (argo-cd applicationset/generators/matrix.go getMatrixGenerator, ToNestedMatrixGenerator). Each is validated as the
// top-level generator it becomes, in an ApplicationSet of its own, its errors reported at its place in the document.
async function validateNestedGenerators(document) {
  if (document.kind !== "ApplicationSet") return [];
  const errors = [];
  for (const [i, generator] of (document.spec?.generators ?? []).entries()) {
    for (const combiner of ["matrix", "merge"]) {
      for (const [j, child] of (generator?.[combiner]?.generators ?? []).entries()) {
        for (const nested of ["matrix", "merge"]) {
          if (child?.[nested] === undefined) continue;
          const inner = { apiVersion: document.apiVersion, kind: document.kind, metadata: { name: document.metadata?.name },
            spec: { generators: [{ [nested]: child[nested] }], template: document.spec.template } };
          const at = `/spec/generators/${i}/${combiner}/generators/${j}`;
          for (const error of await validate(inner, false))
            errors.push(error.replace("/spec/generators/0", at).replace("instance.spec.generators[0]", `instance${at.replaceAll("/", ".")}`));
          delete child[nested];
          child[nested] = {};
        }
      }
    }
  }
  return errors;
}

async function validate(document, nested = true) {
  const { apiVersion, kind } = document ?? {};
  if (typeof apiVersion !== "string" || typeof kind !== "string") return ["document has no apiVersion/kind"];
  const nestedErrors = nested ? await validateNestedGenerators(structuredClone(document)) : [];
  if (nested && nestedErrors.length === 0 && document.kind === "ApplicationSet") {
    // validated above; the free-form blobs are left out of the strict walk below
    document = structuredClone(document);
    for (const generator of document.spec?.generators ?? [])
      for (const combiner of ["matrix", "merge"])
        for (const child of generator?.[combiner]?.generators ?? [])
          for (const inner of ["matrix", "merge"]) if (child?.[inner] !== undefined) child[inner] = {};
  }
  if (nestedErrors.length) return nestedErrors;
  const Model = await modelFor(apiVersion, kind);
  if (!Model) return [`no schema for ${apiVersion} ${kind}: add its @kubernetes-models package to tools/package.json`];
  const read = new WeakMap();
  const proxy = tracked(document, read);
  const errors = [];
  try {
    Model.prototype.validate.call(proxy);
  } catch (e) {
    errors.push(e.message);
  }
  for (const path of unknownFields(proxy, read)) errors.push(`${path}: unknown field (not in the ${kind} schema)`);
  return errors;
}

const sources = files.length ? files.map((f) => [f, readFileSync(f, "utf8")]) : [["<stdin>", readFileSync(0, "utf8")]];
const documents = [];
const errors = [];
for (const [source, text] of sources) {
  for (const parsed of YAML.parseAllDocuments(text)) {
    if (parsed.errors.length) {
      errors.push(`${source}: ${parsed.errors.map((e) => e.message).join("; ")}`);
      continue;
    }
    const document = parsed.toJS();
    if (document === null) continue;
    documents.push(document);
    const name = `${document.kind ?? "?"}/${document.metadata?.name ?? "?"}`;
    for (const error of await validate(document)) errors.push(`${name}: ${error}`);
  }
}
process.stdout.write(JSON.stringify({ documents, errors }));
process.exitCode = errors.length ? 1 : 0;
