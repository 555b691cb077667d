// YAML (one or more documents) to a JSON array, for tests that read YAML files:
//   node yaml-to-json.mjs --modules <node_modules> [--keep-empty] < file.yaml
// Empty documents (a helm template output holds comment-only ones) are dropped, or kept as null with --keep-empty so
// the array lines up with the documents of the input.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const modulesAt = process.argv.indexOf("--modules");
if (modulesAt < 0 || !process.argv[modulesAt + 1]) {
  console.error("usage: node yaml-to-json.mjs --modules <node_modules> < file.yaml");
  process.exit(2);
}
const YAML = (await import(pathToFileURL(join(process.argv[modulesAt + 1], "yaml", "dist", "index.js")).href)).default;
const documents = YAML.parseAllDocuments(readFileSync(0, "utf8"));
const broken = documents.flatMap((d) => d.errors.map((e) => e.message));
if (broken.length) {
  console.error(broken.join("\n"));
  process.exit(1);
}
const keepEmpty = process.argv.includes("--keep-empty");
process.stdout.write(JSON.stringify(documents.map((d) => d.toJS()).filter((d) => keepEmpty || d !== null)));
