#!/usr/bin/env node
// Offline validation of the Kubernetes manifests under k8s/ (no cluster, no network).
//
//   node k8s/validate.mjs                    # render with kubectl/kustomize if on PATH, else built-in
//   node k8s/validate.mjs --renderer=builtin # force the built-in renderer
//   node k8s/validate.mjs --compare          # render with both and require identical objects
//
// 1. Parses every YAML file under k8s/ and checks each kustomization's references.
// 2. Renders base and every overlay ("kubectl kustomize", "kustomize build", or a small built-in
//    renderer that supports exactly the kustomization features this repository uses and refuses others).
// 3. Validates every rendered object against the Kubernetes / KEDA OpenAPI schemas (kubernetes-models,
//    @kubernetes-models/keda), when those packages are installed.
// 4. Checks project rules: probes, resources, security context, PDBs, one autoscaler per Deployment,
//    NetworkPolicies, no committed Secret values outside overlays/dev.
//
// Needs the npm package "yaml"; schema validation needs "kubernetes-models" and "@kubernetes-models/keda".
import { Buffer } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import v8 from 'node:v8';

const log = (line) => process.stdout.write(`${line}\n`);
const K8S = dirname(fileURLToPath(import.meta.url));
const NAMESPACE = 'inbox-bridge';
const TARGETS = ['base', 'overlays/dev', 'overlays/prod'];
const SECRETS_ALLOWED_IN = new Set(['overlays/dev']); // only obviously-dev generated values
const EXAMPLE_FILES = new Set(['secret.example.yaml']); // documentation, never in a kustomization
const CLUSTER_SCOPED = new Set(['Namespace']);

const args = new Set(process.argv.slice(2));
const forcedBuiltin = args.has('--renderer=builtin');
const compare = args.has('--compare');

let YAML;
try {
  YAML = (await import('yaml')).default;
} catch {
  process.stderr.write('k8s/validate.mjs needs the npm package "yaml" (add it as a root devDependency).\n');
  process.exit(2);
}

let passed = 0;
let failed = 0;
const check = (ok, what) => {
  if (ok) {
    passed++;
  } else {
    failed++;
    log(`FAIL ${what}`);
  }
  return ok;
};
const rel = (p) => relative(K8S, p) || '.';

// ---------- 1. parse every file ----------
function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      return name === 'node_modules' ? [] : walk(p);
    }
    return /\.ya?ml$/.test(name) ? [p] : [];
  });
}

const parsed = new Map(); // abs path -> array of documents
for (const file of walk(K8S)) {
  const docs = YAML.parseAllDocuments(readFileSync(file, 'utf8'));
  const problems = docs.flatMap((d) => [...d.errors, ...d.warnings]);
  check(problems.length === 0, `${rel(file)}: YAML ${problems.map((e) => e.message).join('; ')}`);
  parsed.set(
    file,
    docs.map((d) => d.toJS()).filter((d) => d !== null && d !== undefined),
  );
}
log(`parsed ${parsed.size} YAML files`);

// ---------- 2. kustomization references ----------
const KNOWN_KEYS = new Set([
  'apiVersion',
  'kind',
  'namespace',
  'labels',
  'resources',
  'images',
  'replicas',
  'patches',
  'generatorOptions',
  'secretGenerator',
  'configMapGenerator',
]);
const referenced = new Set();
for (const [file, [k]] of parsed) {
  if (!/kustomization\.ya?ml$/.test(file)) {
    continue;
  }
  const dir = dirname(file);
  for (const key of Object.keys(k)) {
    check(KNOWN_KEYS.has(key), `${rel(file)}: unsupported kustomization key "${key}"`);
  }
  for (const r of k.resources ?? []) {
    const p = resolve(dir, r);
    const ok = existsSync(p) && (statSync(p).isFile() || existsSync(join(p, 'kustomization.yaml')));
    check(ok, `${rel(file)}: resource "${r}" does not exist`);
    if (ok && statSync(p).isFile()) {
      referenced.add(p);
    }
  }
  for (const patch of k.patches ?? []) {
    if (patch.path) {
      const p = resolve(dir, patch.path);
      check(existsSync(p), `${rel(file)}: patch "${patch.path}" does not exist`);
      referenced.add(p);
    }
  }
}
for (const file of parsed.keys()) {
  const name = rel(file);
  if (/kustomization\.ya?ml$/.test(file)) {
    continue;
  }
  if (EXAMPLE_FILES.has(name)) {
    check(!referenced.has(file), `${name} must not be listed in any kustomization`);
    for (const doc of parsed.get(file)) {
      for (const [key, value] of Object.entries({ ...doc.data, ...doc.stringData })) {
        check(
          String(value).includes('CHANGE_ME'),
          `${name}: ${doc.metadata?.name}.${key} must be a CHANGE_ME placeholder`,
        );
      }
    }
    continue;
  }
  check(referenced.has(file), `${name} is not referenced by any kustomization`);
  for (const doc of parsed.get(file)) {
    check(
      doc.kind !== 'Secret',
      `${name}: committed Secret ${doc.metadata?.name} (use secretGenerator in overlays/dev only)`,
    );
  }
}

// ---------- 3. render ----------
function which(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}
function renderExternal(dir) {
  const out = which('kubectl')
    ? execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    : execFileSync('kustomize', ['build', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const objs = YAML.parseAllDocuments(out)
    .map((d) => d.toJS())
    .filter(Boolean);
  // kustomize folds long base64 values over several lines; the API server ignores the newlines.
  for (const o of objs) {
    if (o.kind !== 'Secret') {
      continue;
    }
    for (const k of Object.keys(o.data ?? {})) {
      o.data[k] = o.data[k].replace(/\s+/g, '');
    }
  }
  return objs;
}

const clone = (o) => v8.deserialize(v8.serialize(o));
function pointer(path) {
  return path
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}
function applyJsonPatch(obj, ops) {
  for (const op of ops) {
    const parts = pointer(op.path);
    const last = parts.pop();
    let parent = obj;
    for (const p of parts) {
      if (parent[p] === undefined) {
        throw new Error(`patch path ${op.path} not found`);
      }
      parent = parent[p];
    }
    if (op.op === 'replace' || op.op === 'add') {
      if (op.op === 'replace' && !(last in parent)) {
        throw new Error(`patch replace: ${op.path} not found`);
      }
      if (Array.isArray(parent) && op.op === 'add') {
        parent.splice(last === '-' ? parent.length : Number(last), 0, clone(op.value));
      } else {
        parent[last] = clone(op.value);
      }
    } else if (op.op === 'remove') {
      if (Array.isArray(parent)) {
        parent.splice(Number(last), 1);
      } else {
        Reflect.deleteProperty(parent, last);
      }
    } else {
      throw new Error(`unsupported JSON patch op ${op.op}`);
    }
  }
}
function matchesTarget(obj, t) {
  if (t.kind && obj.kind !== t.kind) {
    return false;
  }
  if (t.name && obj.metadata.name !== t.name) {
    return false;
  }
  if (t.labelSelector) {
    for (const term of t.labelSelector.split(',')) {
      const [k, v] = term.split('=');
      if (obj.metadata.labels?.[k] !== v) {
        return false;
      }
    }
  }
  return true;
}
function podSpecs(obj) {
  if (obj.kind === 'Job' || obj.kind === 'Deployment') {
    return [obj.spec.template.spec];
  }
  return [];
}
function renderBuiltin(dir) {
  const [k] = parsed.get(join(dir, 'kustomization.yaml'));
  let objs = [];
  for (const r of k.resources ?? []) {
    const p = resolve(dir, r);
    if (statSync(p).isDirectory()) {
      objs.push(...renderBuiltin(p));
    } else {
      objs.push(...parsed.get(p).map(clone));
    }
  }
  const gen = k.generatorOptions ?? {};
  for (const g of k.secretGenerator ?? []) {
    if (!gen.disableNameSuffixHash) {
      throw new Error(`${rel(dir)}: built-in renderer needs disableNameSuffixHash`);
    }
    const data = {};
    for (const lit of g.literals ?? []) {
      const i = lit.indexOf('=');
      data[lit.slice(0, i)] = Buffer.from(lit.slice(i + 1)).toString('base64');
    }
    const meta = { name: g.name };
    if (gen.labels) {
      meta.labels = { ...gen.labels };
    }
    objs.push({ apiVersion: 'v1', kind: 'Secret', metadata: meta, type: g.type ?? 'Opaque', data });
  }
  if (k.configMapGenerator?.length) {
    throw new Error('built-in renderer: configMapGenerator unsupported');
  }
  for (const patch of k.patches ?? []) {
    const ops = YAML.parse(patch.patch ?? readFileSync(resolve(dir, patch.path), 'utf8'));
    if (!Array.isArray(ops)) {
      throw new Error('built-in renderer: only JSON6902 patches are supported');
    }
    const hits = objs.filter((o) => matchesTarget(o, patch.target ?? {}));
    if (hits.length === 0) {
      throw new Error(`${rel(dir)}: patch target ${JSON.stringify(patch.target)} matches nothing`);
    }
    for (const o of hits) {
      applyJsonPatch(o, ops);
    }
  }
  for (const o of objs) {
    if (k.namespace) {
      if (o.kind === 'Namespace') {
        o.metadata.name = k.namespace;
      } else if (!CLUSTER_SCOPED.has(o.kind)) {
        o.metadata.namespace = k.namespace;
      }
    }
    for (const l of k.labels ?? []) {
      if (l.includeSelectors || l.includeTemplates) {
        throw new Error('built-in renderer: label selectors unsupported');
      }
      o.metadata.labels = { ...o.metadata.labels, ...l.pairs };
    }
    for (const r of k.replicas ?? []) {
      if (o.metadata.name === r.name && ['Deployment', 'StatefulSet', 'ReplicaSet'].includes(o.kind)) {
        o.spec.replicas = r.count;
      }
    }
    for (const spec of podSpecs(o)) {
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        for (const img of k.images ?? []) {
          const bare = c.image.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
          if (bare !== img.name) {
            continue;
          }
          c.image = `${img.newName ?? img.name}${img.digest ? `@${img.digest}` : `:${img.newTag ?? 'latest'}`}`;
        }
      }
    }
  }
  return objs;
}

const haveExternal = which('kubectl') || which('kustomize');
const renderer =
  forcedBuiltin || !haveExternal ? 'built-in' : which('kubectl') ? 'kubectl kustomize' : 'kustomize build';
log(`renderer: ${renderer}${compare ? ' (comparing with built-in)' : ''}`);
const key = (o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const rendered = {};
for (const t of TARGETS) {
  const dir = join(K8S, t);
  try {
    rendered[t] = renderer === 'built-in' ? renderBuiltin(dir) : renderExternal(dir);
    check(true, '');
  } catch (e) {
    check(false, `${t}: render failed: ${e.stderr?.toString() || e.message}`);
    rendered[t] = [];
    continue;
  }
  if (compare) {
    if (!check(haveExternal, 'compare: no kubectl or kustomize on PATH')) {
      continue;
    }
    const a = new Map(renderExternal(dir).map((o) => [key(o), o]));
    const b = new Map(renderBuiltin(dir).map((o) => [key(o), o]));
    check(
      isDeepStrictEqual([...a.keys()].sort(), [...b.keys()].sort()),
      `${t}: renderers disagree on the object list`,
    );
    for (const [k2, o] of a) {
      if (b.has(k2)) {
        check(isDeepStrictEqual(o, b.get(k2)), `${t}: renderers disagree on ${k2}`);
      }
    }
  }
}

// ---------- 4. schemas ----------
let models = null;
try {
  models = { core: await import('kubernetes-models'), keda: await import('@kubernetes-models/keda') };
} catch {
  log('WARN schema validation skipped: install "kubernetes-models" and "@kubernetes-models/keda"');
}
async function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : [null, apiVersion];
  const mod =
    group === 'keda.sh'
      ? await import(`@kubernetes-models/keda/keda.sh/${version}`)
      : await import(group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`);
  return mod[kind];
}

// ---------- 5. project rules ----------
const CPU_MEM = ['cpu', 'memory'];
function checkContainer(where, c, { probes }) {
  for (const tier of ['requests', 'limits']) {
    for (const r of CPU_MEM) {
      check(c.resources?.[tier]?.[r] !== undefined, `${where}: resources.${tier}.${r} missing`);
    }
  }
  const sc = c.securityContext ?? {};
  check(sc.allowPrivilegeEscalation === false, `${where}: allowPrivilegeEscalation must be false`);
  check(sc.readOnlyRootFilesystem === true, `${where}: readOnlyRootFilesystem must be true`);
  check(sc.capabilities?.drop?.includes('ALL'), `${where}: capabilities must drop ALL`);
  if (!probes) {
    return;
  }
  check(c.livenessProbe?.httpGet?.path === '/health/live', `${where}: livenessProbe must GET /health/live`);
  check(
    c.readinessProbe?.httpGet?.path === '/health/ready',
    `${where}: readinessProbe must GET /health/ready`,
  );
  check(c.startupProbe?.httpGet !== undefined, `${where}: startupProbe missing`);
  check(c.lifecycle?.preStop?.sleep?.seconds === 5, `${where}: preStop sleep 5 s missing`);
}
function checkPodSpec(where, spec, objs, target) {
  check(spec.securityContext?.runAsNonRoot === true, `${where}: pod runAsNonRoot must be true`);
  check(
    Number.isInteger(spec.securityContext?.runAsUser) && spec.securityContext.runAsUser > 0,
    `${where}: numeric non-root runAsUser`,
  );
  for (const c of spec.containers) {
    for (const ref of c.envFrom ?? []) {
      if (ref.configMapRef) {
        const found = objs.some((o) => o.kind === 'ConfigMap' && o.metadata.name === ref.configMapRef.name);
        check(found, `${where}: ConfigMap ${ref.configMapRef.name} not in the rendered output`);
      }
      if (ref.secretRef && target === 'overlays/dev') {
        const found = objs.some((o) => o.kind === 'Secret' && o.metadata.name === ref.secretRef.name);
        check(found, `${where}: Secret ${ref.secretRef.name} not generated by the dev overlay`);
      }
    }
  }
}
const selects = (selector, labels) =>
  Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels?.[k] === v) &&
  (selector?.matchExpressions ?? []).every((e) =>
    e.operator === 'In'
      ? e.values.includes(labels?.[e.key])
      : e.operator === 'NotIn'
        ? !e.values.includes(labels?.[e.key])
        : true,
  );

for (const t of TARGETS) {
  const objs = rendered[t];
  if (!objs.length) {
    continue;
  }
  const seen = new Set();
  for (const o of objs) {
    const id = `${t}: ${o.kind}/${o.metadata?.name}`;
    check(o.apiVersion && o.kind && o.metadata?.name, `${id}: apiVersion, kind and metadata.name required`);
    check(!seen.has(key(o)), `${id}: duplicate object`);
    seen.add(key(o));
    if (!CLUSTER_SCOPED.has(o.kind)) {
      check(o.metadata.namespace === NAMESPACE, `${id}: namespace must be ${NAMESPACE}`);
    }
    if (o.kind === 'Secret') {
      check(
        SECRETS_ALLOWED_IN.has(t),
        `${id}: Secret with values in ${t} (only overlays/dev may generate Secrets)`,
      );
    }
    if (models) {
      try {
        const Model = await modelFor(o.apiVersion, o.kind);
        if (check(Model !== undefined, `${id}: no schema for ${o.apiVersion} ${o.kind}`)) {
          new Model(o).validate();
          check(true, '');
        }
      } catch (e) {
        check(false, `${id}: schema: ${e.message}`);
      }
    }
  }

  const deployments = objs.filter((o) => o.kind === 'Deployment');
  for (const d of deployments) {
    const id = `${t}: Deployment/${d.metadata.name}`;
    const spec = d.spec.template.spec;
    const podLabels = d.spec.template.metadata.labels;
    check(selects(d.spec.selector, podLabels), `${id}: selector does not match the pod template`);
    check(spec.terminationGracePeriodSeconds >= 45, `${id}: terminationGracePeriodSeconds must be >= 45`);
    checkPodSpec(id, spec, objs, t);
    for (const c of spec.containers) {
      checkContainer(`${id} container ${c.name}`, c, { probes: true });
    }
    const pdbs = objs.filter((o) => o.kind === 'PodDisruptionBudget' && selects(o.spec.selector, podLabels));
    if (check(pdbs.length === 1, `${id}: exactly one PodDisruptionBudget expected, found ${pdbs.length}`)) {
      check(pdbs[0].spec.maxUnavailable === 1, `${id}: PDB maxUnavailable must be 1`);
      check(
        pdbs[0].spec.unhealthyPodEvictionPolicy === 'AlwaysAllow',
        `${id}: PDB unhealthyPodEvictionPolicy AlwaysAllow`,
      );
    }
    const scalers = objs.filter(
      (o) =>
        (o.kind === 'HorizontalPodAutoscaler' || o.kind === 'ScaledObject') &&
        o.spec.scaleTargetRef.name === d.metadata.name &&
        (o.spec.scaleTargetRef.kind ?? 'Deployment') === 'Deployment',
    );
    check(scalers.length === 1, `${id}: exactly one HPA or ScaledObject expected, found ${scalers.length}`);
    const svc = objs.find((o) => o.kind === 'Service' && o.metadata.name === d.metadata.name);
    if (check(svc !== undefined, `${id}: Service missing`)) {
      check(selects({ matchLabels: svc.spec.selector }, podLabels), `${id}: Service selector does not match`);
      const portNames = spec.containers.flatMap((c) => (c.ports ?? []).map((p) => p.name));
      for (const p of svc.spec.ports) {
        check(
          typeof p.targetPort !== 'string' || portNames.includes(p.targetPort),
          `${id}: Service targetPort ${p.targetPort}`,
        );
      }
    }
  }
  for (const j of objs.filter((o) => o.kind === 'Job')) {
    const id = `${t}: Job/${j.metadata.name}`;
    check(j.spec.template.spec.restartPolicy === 'Never', `${id}: restartPolicy must be Never`);
    checkPodSpec(id, j.spec.template.spec, objs, t);
    for (const c of j.spec.template.spec.containers) {
      checkContainer(`${id} container ${c.name}`, c, { probes: false });
    }
  }
  for (const so of objs.filter((o) => o.kind === 'ScaledObject')) {
    const id = `${t}: ScaledObject/${so.metadata.name}`;
    check(
      so.spec.minReplicaCount >= 1,
      `${id}: minReplicaCount must be >= 1 (no scale to zero on chat paths)`,
    );
    for (const trig of so.spec.triggers.filter((x) => x.type === 'rabbitmq')) {
      check(trig.metadata.mode === 'QueueLength', `${id}: rabbitmq trigger mode QueueLength`);
      const ta = objs.find(
        (o) => o.kind === 'TriggerAuthentication' && o.metadata.name === trig.authenticationRef?.name,
      );
      check(ta !== undefined, `${id}: TriggerAuthentication ${trig.authenticationRef?.name} missing`);
    }
  }
  const netpols = objs.filter((o) => o.kind === 'NetworkPolicy');
  check(
    netpols.some(
      (n) =>
        isDeepStrictEqual(n.spec.podSelector, {}) &&
        !n.spec.ingress &&
        !n.spec.egress &&
        n.spec.policyTypes?.length === 2,
    ),
    `${t}: default-deny NetworkPolicy (Ingress and Egress) missing`,
  );
  for (const n of netpols) {
    const id = `${t}: NetworkPolicy/${n.metadata.name}`;
    const blocks = (n.spec.egress ?? []).flatMap((e) => (e.to ?? []).map((p) => p.ipBlock).filter(Boolean));
    for (const b of blocks.filter((x) => x.cidr === '0.0.0.0/0')) {
      check(b.except?.includes('169.254.0.0/16'), `${id}: 0.0.0.0/0 must exclude 169.254.0.0/16`);
    }
    const routerPods = deployments
      .filter((d) => d.metadata.name === 'router')
      .map((d) => d.spec.template.metadata.labels);
    if (blocks.length) {
      check(
        !routerPods.some((l) => selects(n.spec.podSelector, l)),
        `${id}: router must have no internet egress`,
      );
    }
    const fromIngressController = (n.spec.ingress ?? []).some((r) =>
      (r.from ?? []).some((p) =>
        p.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name']?.includes('ingress'),
      ),
    );
    if (fromIngressController) {
      check(
        !routerPods.some((l) => selects(n.spec.podSelector, l)),
        `${id}: router must not be reachable from the ingress controller`,
      );
    }
  }
}

log(`k8s: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
