// Which keys of a set of Helm values a chart never reads:
//
//   node values-keys.mjs --modules <node_modules> --chart <chart dir> < values.json
//
// Prints {"unread": ["a.b.c", ...], "passedThrough": ["a.b", ...]}. A key is read when the chart knows it:
//   1. its values.yaml has it (a subchart's under the subchart's name or alias; global.* for every chart); below a
//      key whose default is an empty map, a list, a scalar or null, the chart takes the project's value as a whole;
//   2. or its values.schema.json declares it;
//   3. or a template refers to it (.Values.a.b.c, $.Values.a.b.c, index .Values "a" "b").
// A key below one that a template uses whole (toYaml .Values.x, with .Values.x, $v := .Values.x) is "passed
// through": the chart does not look inside, so what lands where is judged by the schema of the rendered object
// (crd-validate.mjs, validate.mjs), not here.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const arg = (name) => process.argv[process.argv.indexOf(name) + 1];
if (!process.argv.includes("--modules") || !process.argv.includes("--chart")) {
  console.error("usage: node values-keys.mjs --modules <node_modules> --chart <dir> < values.json");
  process.exit(2);
}
const YAML = (await import(pathToFileURL(join(arg("--modules"), "yaml", "dist", "index.js")).href)).default;

const isMap = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

function files(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

function loadChart(dir) {
  const meta = YAML.parse(readFileSync(join(dir, "Chart.yaml"), "utf8"));
  const values = existsSync(join(dir, "values.yaml")) ? YAML.parse(readFileSync(join(dir, "values.yaml"), "utf8")) ?? {} : {};
  const schema = existsSync(join(dir, "values.schema.json")) ? JSON.parse(readFileSync(join(dir, "values.schema.json"), "utf8")) : null;
  const text = files(join(dir, "templates")).filter((f) => /\.(ya?ml|tpl|txt|json)$/.test(f)).map((f) => readFileSync(f, "utf8")).join("\n");
  // Every reference: the dotted path, and whether the template uses the value whole (not followed by .key).
  const exact = new Set();
  const whole = new Set();
  for (const m of text.matchAll(/\.Values((?:\.[A-Za-z0-9_]+)+)(\.?)/g)) {
    const path = m[1].slice(1);
    exact.add(path);
    if (m[2] !== ".") whole.add(path);
  }
  for (const m of text.matchAll(/index\s+\$?\.Values((?:\s+"[^"]+")+)/g)) {
    const path = [...m[1].matchAll(/"([^"]+)"/g)].map((k) => k[1]).join(".");
    exact.add(path);
    whole.add(path);
  }
  const subcharts = {};
  const chartsDir = join(dir, "charts");
  if (existsSync(chartsDir)) {
    const byName = {};
    for (const entry of readdirSync(chartsDir)) {
      const sub = join(chartsDir, entry);
      if (existsSync(join(sub, "Chart.yaml"))) byName[YAML.parse(readFileSync(join(sub, "Chart.yaml"), "utf8")).name] = sub;
    }
    for (const dep of meta.dependencies ?? []) {
      if (byName[dep.name]) subcharts[dep.alias ?? dep.name] = loadChart(byName[dep.name]);
    }
  }
  return { values, schema, exact, whole, subcharts };
}

function at(tree, path) {
  let node = tree;
  for (const key of path) {
    if (!isMap(node) || !(key in node)) return undefined;
    node = node[key];
  }
  return node;
}

function schemaAt(schema, path) {
  let node = schema;
  for (const key of path) {
    if (!node) return undefined;
    if (node.properties && key in node.properties) node = node.properties[key];
    else if (isMap(node.additionalProperties)) node = node.additionalProperties;
    else return undefined;
  }
  return node;
}

// Whether some proper prefix of path is used whole by the chart's templates.
function wholePrefix(chart, path) {
  for (let i = path.length - 1; i >= 1; i--) {
    if (chart.whole.has(path.slice(0, i).join("."))) return true;
  }
  return false;
}

// What one chart knows of path: "descend" (read, with known keys below), "leaf" (read as a whole value),
// "passthrough" (inside a value a template uses whole) or "unknown".
function status(chart, path) {
  const dotted = path.join(".");
  const fallback = at(chart.values, path);
  if (fallback !== undefined) return isMap(fallback) && Object.keys(fallback).length > 0 ? "descend" : "leaf";
  const schema = chart.schema ? schemaAt(chart.schema, path) : undefined;
  if (schema !== undefined) return schema.properties ? "descend" : "leaf";
  if ([...chart.exact].some((r) => r.startsWith(dotted + "."))) return "descend";
  if (chart.exact.has(dotted)) return "leaf";
  return wholePrefix(chart, path) ? "passthrough" : "unknown";
}

// The statuses of path in the chart and in whichever subchart (or, for global.*, every chart) also sees it.
function statuses(chart, path) {
  const found = [status(chart, path)];
  if (path[0] === "global") {
    for (const sub of Object.values(chart.subcharts)) found.push(...statuses(sub, path));
  } else if (chart.subcharts[path[0]] && path.length > 1) {
    found.push(...statuses(chart.subcharts[path[0]], path.slice(1)));
  }
  return found;
}

const unread = [];
const passedThrough = [];

function walk(chart, path, value) {
  const found = statuses(chart, path);
  if (found.includes("leaf")) return;
  if (found.includes("descend")) {
    if (isMap(value)) for (const [key, child] of Object.entries(value)) walk(chart, [...path, key], child);
    return;
  }
  if (found.includes("passthrough")) passedThrough.push(path.join("."));
  else unread.push(path.join("."));
}

const chart = loadChart(arg("--chart"));
const values = JSON.parse(readFileSync(0, "utf8"));
for (const [key, value] of Object.entries(values)) walk(chart, [key], value);
process.stdout.write(JSON.stringify({ unread: [...new Set(unread)].sort(), passedThrough: [...new Set(passedThrough)].sort() }));
