#!/usr/bin/env node
// Checks deploy/observability: the alert rules parse, every rule has a severity and a summary, and every metric
// the rules and the Grafana dashboard query is one a bridge service really exports (its name appears as a string
// literal in a service's source) or comes from Prometheus, Node's default collectors or RabbitMQ's plugin.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import YAML from 'yaml';

const root = new URL('..', import.meta.url).pathname;
const dir = join(root, 'deploy/observability');
const external = [/^rabbitmq_/, /^process_/, /^nodejs_/, /^up$/];
const promqlWords = new Set(
  `sum by without max min avg count rate irate increase histogram_quantile clamp_min clamp_max topk bottomk
   label_values on ignoring group_left group_right and or unless bool offset le abs absent delta deriv time vector`
    .split(/\s+/)
    .filter(Boolean),
);

function sourceFiles(path) {
  return readdirSync(path).flatMap((name) => {
    const full = join(path, name);
    if (name === 'node_modules' || name === 'dist' || name === 'test') {
      return [];
    }
    if (statSync(full).isDirectory()) {
      return sourceFiles(full);
    }
    return /\.ts$/.test(name) && !/\.(int-)?spec\.ts$/.test(name) ? [full] : [];
  });
}

const source = ['apps', 'packages']
  .flatMap((top) => readdirSync(join(root, top)).map((name) => join(root, top, name, 'src')))
  .filter((path) => statSync(path, { throwIfNoEntry: false })?.isDirectory())
  .flatMap(sourceFiles)
  .map((file) => readFileSync(file, 'utf8'))
  .join('\n');

function metricNames(expr) {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\{[^}]*\}/g, '{}');
  const withoutLabels = withoutStrings.replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '');
  const names = withoutLabels.match(/\b[a-zA-Z_:][a-zA-Z0-9_:]*\b/g) ?? [];
  return names.filter((name) => !promqlWords.has(name) && !/^\d/.test(name) && !/^\$/.test(name));
}

const problems = [];
function checkExpr(where, expr) {
  for (const name of metricNames(expr)) {
    const base = name.replace(/_(bucket|sum|count)$/, '');
    if (external.some((pattern) => pattern.test(base))) {
      continue;
    }
    if (!source.includes(`'${base}'`)) {
      problems.push(`${where}: metric "${name}" is not exported by any service`);
    }
  }
}

const rules = YAML.parse(readFileSync(join(dir, 'prometheus-rules.yaml'), 'utf8'));
let ruleCount = 0;
for (const group of rules.groups ?? []) {
  for (const rule of group.rules ?? []) {
    ruleCount += 1;
    const where = `prometheus-rules.yaml ${rule.alert ?? '(unnamed)'}`;
    if (!rule.alert || !rule.expr || !rule.labels?.severity || !rule.annotations?.summary) {
      problems.push(`${where}: needs alert, expr, labels.severity and annotations.summary`);
    }
    checkExpr(where, String(rule.expr ?? ''));
  }
}

const dashboard = JSON.parse(readFileSync(join(dir, 'grafana-dashboard.json'), 'utf8'));
let targetCount = 0;
for (const panel of dashboard.panels ?? []) {
  for (const target of panel.targets ?? []) {
    targetCount += 1;
    checkExpr(`grafana-dashboard.json "${panel.title}"`, target.expr);
  }
}

if (problems.length > 0) {
  process.stderr.write(`${problems.join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(
  `observability: ${ruleCount} alert rules and ${targetCount} dashboard queries check out\n`,
);
