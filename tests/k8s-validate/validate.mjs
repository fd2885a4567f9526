#!/usr/bin/env node
// Validates Kubernetes objects offline against the Kubernetes OpenAPI
// schemas, with kubernetes-models (no cluster needed), and the Prometheus
// Operator's objects (PrometheusRule, ServiceMonitor, PodMonitor, ...)
// against its CRD schemas, with @kubernetes-models/prometheus-operator.
//
//   kubectl kustomize manifests/ | node tests/k8s-validate/validate.mjs -
//   node tests/k8s-validate/validate.mjs FILE.yaml...
//
// Prints one line per object, "ok <apiVersion> <kind> <namespace>/<name>"
// or "FAIL ... : reason", then a summary.  Exit 0 when every object
// validates, 1 when one does not, 2 on bad input (unreadable file, YAML
// error, no objects, an apiVersion/kind kubernetes-models does not know).
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

function die(msg) {
  console.error("k8s-validate: " + msg);
  process.exit(2);
}

// API groups of custom resources -> the package with their models.
const CRD_PACKAGES = {
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
};

async function modelFor(apiVersion, kind) {
  if (typeof apiVersion !== "string" || !/^[a-z0-9.]+(\/[a-z0-9]+)?$/.test(apiVersion)) {
    return null;
  }
  const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
  const pkg = CRD_PACKAGES[group] || "kubernetes-models";
  let mod;
  try {
    mod = await import(pkg + "/" + apiVersion);
  } catch {
    return null;
  }
  const M = mod[kind];
  return typeof M === "function" && M.kind === kind ? M : null;
}

const files = process.argv.slice(2);
if (files.length === 0) {
  die("usage: validate.mjs FILE.yaml... (- for stdin)");
}

const objects = [];
for (const f of files) {
  let text;
  try {
    text = readFileSync(f === "-" ? 0 : f, "utf8");
  } catch (e) {
    die(`${f}: ${e.message}`);
  }
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) {
      die(`${f}: YAML error: ${doc.errors[0].message}`);
    }
    const obj = doc.toJS();
    if (obj === null || obj === undefined) continue;
    if (typeof obj !== "object" || Array.isArray(obj)) {
      die(`${f}: a document is not a mapping`);
    }
    if (obj.kind === "List" && Array.isArray(obj.items)) {
      objects.push(...obj.items.map((o) => [f, o]));
    } else {
      objects.push([f, obj]);
    }
  }
}
if (objects.length === 0) {
  die("no objects in the input");
}

let failed = 0;
for (const [f, obj] of objects) {
  const md = obj.metadata || {};
  const id = `${obj.apiVersion} ${obj.kind} ${md.namespace ? md.namespace + "/" : ""}${md.name}`;
  const M = await modelFor(obj.apiVersion, obj.kind);
  if (!M) {
    die(`${f}: ${id}: unknown apiVersion/kind`);
  }
  const problems = [];
  if (typeof md.name !== "string" || md.name === "") {
    problems.push("metadata.name is missing");
  }
  try {
    new M(obj).validate();
  } catch (e) {
    problems.push(e.message);
  }
  if (problems.length) {
    failed++;
    console.log(`FAIL ${id}: ${problems.join("; ")}`);
  } else {
    console.log(`ok ${id}`);
  }
}
console.log(`${objects.length - failed}/${objects.length} objects valid`);
process.exit(failed ? 1 : 0);
