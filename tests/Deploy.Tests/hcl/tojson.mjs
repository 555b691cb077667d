// Turns the deployment sources the tests reason about into JSON on stdout, so the C# tests never parse HCL or
// YAML themselves:
//   node tojson.mjs <node_modules> terraform <root>   every directory under <root> holding .tf files, and every
//                                                     .tfvars file, keyed by path relative to <root>
//   node tojson.mjs <node_modules> hcl <file>         one HCL file (e.g. a deliberately broken snippet)
//   node tojson.mjs <node_modules> yaml <file>...     YAML documents, keyed by the path given
// HCL goes through @cdktf/hcl2json (the HCL library Terraform itself uses, compiled to WebAssembly); YAML through
// the yaml package that aws-cdk-lib bundles, both from the test tools' node_modules.
import { createRequire } from "node:module";
import { readFileSync, readdirSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const [nodeModules, mode, ...args] = process.argv.slice(2);
const require = createRequire(join(resolve(nodeModules), "noop.js"));

function walk(dir, found = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, found);
    else found.push(path);
  }
  return found;
}

async function terraform(root) {
  const { convertFiles, parse } = require("@cdktf/hcl2json");
  const files = walk(root);
  const directories = [...new Set(files.filter((f) => f.endsWith(".tf")).map((f) => f.slice(0, f.lastIndexOf("/"))))].sort();
  const result = { directories: {}, tfvars: {} };
  for (const dir of directories) result.directories[relative(root, dir) || "."] = await convertFiles(dir);
  for (const file of files.filter((f) => f.endsWith(".tfvars")).sort())
    result.tfvars[relative(root, file)] = await parse(file, readFileSync(file, "utf8"));
  return result;
}

async function hcl(file) {
  const { parse } = require("@cdktf/hcl2json");
  return parse(file, readFileSync(file, "utf8"));
}

function yaml(files) {
  const YAML = require(join(resolve(nodeModules), "aws-cdk-lib", "node_modules", "yaml"));
  return Object.fromEntries(files.map((file) => [file, YAML.parseAllDocuments(readFileSync(file, "utf8")).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
    return doc.toJSON();
  })]));
}

const modes = { terraform: () => terraform(args[0]), hcl: () => hcl(args[0]), yaml: () => yaml(args) };
if (!modes[mode]) {
  console.error(`unknown mode '${mode}': use terraform <root>, hcl <file> or yaml <file>...`);
  process.exit(2);
}
process.stdout.write(JSON.stringify(await modes[mode]()));
