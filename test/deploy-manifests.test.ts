/**
 * The deployment examples (docker-compose.yml, deploy/kubernetes/) agree with the service they deploy: every variable
 * they set exists in src/config.ts, the grace periods cover the shutdown settings, the probes name the real routes, the
 * KEDA trigger reads the stream and consumer the workers use, and every container of the image runs hardened as
 * `npm run docker:smoke` runs it. Parsed with a YAML library; nothing is applied to a cluster.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { VARIABLES } from '../src/config.js';
import { projectRoot } from '../src/model/files.js';

const read = (file: string) => readFileSync(path.join(projectRoot(), file), 'utf8');
const k8s = (file: string): any => {
  const docs = parseAllDocuments(read(path.join('deploy', 'kubernetes', file)));
  if (docs.length !== 1 || docs[0]!.errors.length > 0) throw new Error(`${file}: one valid YAML document expected`);
  return docs[0]!.toJS();
};
const deployment = k8s('deployment.yaml');
const service = k8s('service.yaml');
const scaled = k8s('scaledobject.yaml');
const compose: any = parse(read('docker-compose.yml'), { merge: true });
const kustomization: any = parse(read('deploy/kubernetes/kustomization.yaml'));
const pod = deployment.spec.template.spec;
const container = pod.containers[0];

const known = new Set(Object.keys(VARIABLES));
const defaultOf = (name: keyof typeof VARIABLES): unknown => (VARIABLES[name].schema as { parse(v: unknown): unknown }).parse(undefined);
const envOf = (list: Array<{ name: string; value: string }>) => Object.fromEntries(list.map((e) => [e.name, e.value]));
const k8sEnv = envOf(container.env);
const setting = (env: Record<string, string | undefined>, name: 'EMBEDDING_SHUTDOWN_DELAY_MS' | 'EMBEDDING_SHUTDOWN_TIMEOUT_MS') =>
  env[name] === undefined ? Number(defaultOf(name)) : Number(env[name]);
/** One batch's time to finish and be acknowledged after the timeout, and a margin: what a grace period adds. */
const ONE_BATCH_AND_MARGIN_MS = 2_000;

test('every variable the examples set is one src/config.ts knows', (t) => {
  for (const name of Object.keys(k8sEnv)) t.true(known.has(name), `deployment.yaml sets ${name}`);
  for (const [service, spec] of Object.entries<any>(compose.services)) {
    for (const name of Object.keys(spec.environment ?? {})) t.true(known.has(name), `docker-compose.yml ${service} sets ${name}`);
  }
});

test('the Kubernetes grace period covers the shutdown delay, the drain timeout and one batch', (t) => {
  const needMs = setting(k8sEnv, 'EMBEDDING_SHUTDOWN_DELAY_MS') + setting(k8sEnv, 'EMBEDDING_SHUTDOWN_TIMEOUT_MS') + ONE_BATCH_AND_MARGIN_MS;
  t.true(pod.terminationGracePeriodSeconds * 1000 >= needMs, `${pod.terminationGracePeriodSeconds} s < ${needMs} ms`);
});

test("compose's stop grace periods cover the drain timeout and one batch", (t) => {
  for (const [name, spec] of Object.entries<any>(compose.services)) {
    if (spec.image !== 'doctown-embedding-worker') continue;
    const graceMs = Number(/^(\d+)s$/.exec(spec.stop_grace_period)?.[1]) * 1000;
    const needMs = setting(spec.environment ?? {}, 'EMBEDDING_SHUTDOWN_DELAY_MS') + setting(spec.environment ?? {}, 'EMBEDDING_SHUTDOWN_TIMEOUT_MS') + ONE_BATCH_AND_MARGIN_MS;
    t.true(graceMs >= needMs, `${name}: ${spec.stop_grace_period} < ${needMs} ms`);
  }
});

test('probes: startup and liveness on /health, readiness on /ready, on the port the service listens on', (t) => {
  t.is(container.startupProbe.httpGet.path, '/health');
  t.is(container.livenessProbe.httpGet.path, '/health');
  t.is(container.readinessProbe.httpGet.path, '/ready');
  const port = container.ports.find((p: any) => p.name === container.readinessProbe.httpGet.port);
  t.is(port.containerPort, defaultOf('PORT'));
  t.is(service.spec.ports[0].targetPort, port.name);
  t.deepEqual(service.spec.selector, deployment.spec.selector.matchLabels);
});

test('memory: request = limit (the supervisor budgets a share of the cgroup limit); workers = the CPU request', (t) => {
  t.truthy(container.resources.limits.memory);
  t.is(container.resources.requests.memory, container.resources.limits.memory);
  t.is(Number(k8sEnv.EMBEDDING_WORKERS), Number(container.resources.requests.cpu));
});

test('the pod runs hardened: non-root (the Dockerfile\'s numeric user), read-only root, /tmp an emptyDir, no capabilities', (t) => {
  const user = /^USER (\d+):(\d+)$/m.exec(read('Dockerfile'));
  t.truthy(user, 'the Dockerfile sets a numeric USER uid:gid');
  t.true(pod.securityContext.runAsNonRoot);
  t.is(String(pod.securityContext.runAsUser), user?.[1] ?? 'no numeric USER');
  t.is(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
  t.true(container.securityContext.readOnlyRootFilesystem);
  t.false(container.securityContext.allowPrivilegeEscalation);
  t.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
  const tmp = container.volumeMounts.find((m: any) => m.mountPath === '/tmp');
  t.truthy(pod.volumes.find((v: any) => v.name === tmp.name).emptyDir);
});

test('every compose service of the image runs hardened as docker:smoke runs it', (t) => {
  const smoke = read('scripts/docker-smoke.sh');
  t.regex(smoke, /HARDENED=\(--read-only --tmpfs \/tmp --cap-drop ALL --security-opt no-new-privileges\)/);
  for (const [name, spec] of Object.entries<any>(compose.services)) {
    if (spec.image !== 'doctown-embedding-worker') continue;
    t.true(spec.read_only, `${name}: read_only`);
    t.deepEqual(spec.tmpfs, ['/tmp'], `${name}: tmpfs /tmp`);
    t.deepEqual(spec.cap_drop, ['ALL'], `${name}: cap_drop ALL`);
    t.deepEqual(spec.security_opt, ['no-new-privileges:true'], `${name}: no-new-privileges`);
  }
});

test("compose's queue profile: nats with JetStream, two workers pointed at it", (t) => {
  const nats = compose.services.nats;
  t.deepEqual(nats.profiles, ['queue']);
  t.regex(nats.image, /^nats:/);
  t.true(nats.command.includes('-js'));
  const worker = compose.services['queue-worker'];
  t.deepEqual(worker.profiles, ['queue']);
  t.is(worker.deploy.replicas, 2);
  t.is(worker.environment.EMBEDDING_NATS_URL, 'nats://nats:4222');
});

test('KEDA scales the Deployment on the consumer the workers share, read from the broker they connect to', (t) => {
  t.is(scaled.spec.scaleTargetRef.name, deployment.metadata.name);
  const trigger = scaled.spec.triggers[0];
  t.is(trigger.type, 'nats-jetstream');
  t.is(trigger.metadata.stream, k8sEnv.EMBEDDING_NATS_STREAM ?? defaultOf('EMBEDDING_NATS_STREAM'));
  t.is(trigger.metadata.consumer, k8sEnv.EMBEDDING_NATS_CONSUMER ?? defaultOf('EMBEDDING_NATS_CONSUMER'));
  t.is(trigger.metadata.natsServerMonitoringEndpoint.split(':')[0], new URL(k8sEnv.EMBEDDING_NATS_URL!).hostname);
  t.true(Number(trigger.metadata.lagThreshold) > 0);
  t.deepEqual([...kustomization.resources].sort(), ['deployment.yaml', 'scaledobject.yaml', 'service.yaml']);
});
