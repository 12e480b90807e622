import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { findFreePort } from '@hlsdump/contracts';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';
import { loadConfig as loadGatewayConfig } from '@hlsdump/gateway/config';
import { loadConfig as loadWorkerConfig } from '@hlsdump/worker/config';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { GATEWAY_MAIN, WORKER_MAIN } from '../support/cluster.js';
import { tempDir } from '../support/dump-kit.js';
import { ServiceProcess } from '../support/service-process.js';
import { REPO_ROOT } from '../support/spawn-node.js';
import { waitFor } from '../support/wait-for.js';

/**
 * deploy/kubernetes/ checked without a cluster: every overlay renders with `kubectl kustomize`,
 * every object validates against the Kubernetes and KEDA schemas, and what the manifests promise
 * holds against the services themselves: their own config parsing of the manifests' environment
 * gives the ports the probes use and a shutdown shorter than the grace period, and the built
 * services, started with that environment, answer every probe.
 */
const KUBERNETES_DIR = join(REPO_ROOT, 'deploy/kubernetes');
const OVERLAYS = readdirSync(join(KUBERNETES_DIR, 'overlays')).sort();

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** A model class of kubernetes-models: validate() throws on what the schema refuses. */
type Model = new (data: never) => { validate(): void };
const MODELS: Record<string, Model> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
};

function kubectlBinary(): string {
  const candidates = [process.env.KUBECTL, '/usr/bin/kubectl', '/usr/local/bin/kubectl'];
  const found = candidates.find((candidate) => candidate && existsSync(candidate));
  if (!found)
    throw new Error(
      'kubectl was not found (KUBECTL, /usr/bin, /usr/local/bin): apt-get install kubernetes-client',
    );
  return found;
}

function render(overlay: string): KubeObject[] {
  const yaml = execFileSync(
    kubectlBinary(),
    ['kustomize', join(KUBERNETES_DIR, 'overlays', overlay)],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return parseAllDocuments(yaml)
    .map((document) => document.toJS() as KubeObject | null)
    .filter((object): object is KubeObject => object !== null);
}

type Container = {
  name: string;
  env?: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string; optional?: boolean }; secretRef?: { name: string } }[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string }[];
};
type Probe = { httpGet?: { path: string; port: number | string } };
type PodSpec = {
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Container[];
  volumes?: {
    name: string;
    persistentVolumeClaim?: { claimName: string };
    configMap?: { name: string };
  }[];
};
type DeploymentObject = KubeObject & {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
};

class Rendered {
  constructor(readonly objects: KubeObject[]) {}
  find<T extends KubeObject>(kind: string, name: string): T {
    const found = this.objects.find((o) => o.kind === kind && o.metadata.name === name);
    if (!found) throw new Error(`no ${kind} ${name} in the rendered manifests`);
    return found as T;
  }
  all<T extends KubeObject>(kind: string): T[] {
    return this.objects.filter((o) => o.kind === kind) as T[];
  }
  deployment(name: string): DeploymentObject {
    return this.find<DeploymentObject>('Deployment', name);
  }
  configData(name: string): Record<string, string> {
    return this.find<KubeObject & { data: Record<string, string> }>('ConfigMap', name).data;
  }
  /**
   * The environment a container of `deployment` starts with, as far as the manifests say it:
   * its ConfigMaps (optional ones when rendered) and plain values; Secrets are the operator's.
   */
  environment(deployment: DeploymentObject): Record<string, string> {
    const env: Record<string, string> = {};
    const container = deployment.spec.template.spec.containers[0]!;
    for (const source of container.envFrom ?? []) {
      const ref = source.configMapRef;
      if (!ref) continue;
      const present = this.objects.some(
        (o) => o.kind === 'ConfigMap' && o.metadata.name === ref.name,
      );
      if (!present && ref.optional) continue;
      Object.assign(env, this.configData(ref.name));
    }
    return env;
  }
}

const labelsMatch = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

/** A probe's port as a number: named ports resolve through the container's ports. */
function probePort(container: Container, probe: Probe | undefined): number {
  const port = probe?.httpGet?.port;
  if (typeof port === 'number') return port;
  const named = container.ports?.find((p) => p.name === port);
  if (!named)
    throw new Error(`${container.name}: probe port ${String(port)} is not a container port`);
  return named.containerPort;
}

/** The origins ConfigMap's files written to disk, and HLSDUMP_ORIGINS pointed at the copy. */
async function originsOnDisk(
  rendered: Rendered,
  gatewayEnv: Record<string, string>,
  dir: string,
): Promise<string> {
  const mounted = gatewayEnv.HLSDUMP_ORIGINS!;
  const gateway = rendered.deployment('hlsdump-gateway').spec.template.spec;
  const mount = gateway.containers[0]!.volumeMounts!.find((m) => m.mountPath === dirname(mounted));
  expect(mount, `a volume mounted at ${dirname(mounted)}`).toBeDefined();
  const volume = gateway.volumes!.find((v) => v.name === mount!.name)!;
  const data = rendered.configData(volume.configMap!.name);
  expect(Object.keys(data)).toContain(basename(mounted));
  const file = join(dir, basename(mounted));
  await writeFile(file, data[basename(mounted)]!);
  return file;
}

describe.each(OVERLAYS)('deploy/kubernetes/overlays/%s', (overlay) => {
  let rendered: Rendered;
  let work: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    rendered = new Rendered(render(overlay));
    work = await tempDir('kubernetes');
  });
  afterAll(async () => {
    await work?.remove();
  });

  it('renders, and every object validates against the Kubernetes and KEDA schemas', () => {
    expect(rendered.objects.length).toBeGreaterThan(10);
    for (const object of rendered.objects) {
      const id = `${object.apiVersion}/${object.kind} ${object.metadata.name}`;
      const model = MODELS[`${object.apiVersion}/${object.kind}`];
      expect(model, `${id}: no schema for this kind`).toBeDefined();
      expect(() => new model!(object as never).validate(), id).not.toThrow();
      if (object.kind !== 'Namespace') expect(object.metadata.namespace, id).toBe('hlsdump');
    }
  });

  it('runs every pod non-root, read-only, without capabilities, with resource requests', () => {
    const deployments = rendered.all<DeploymentObject>('Deployment');
    expect(deployments.map((d) => d.metadata.name)).toEqual(
      expect.arrayContaining(['hlsdump-gateway', 'hlsdump-worker']),
    );
    for (const deployment of deployments) {
      const pod = deployment.spec.template.spec;
      const id = deployment.metadata.name;
      expect(pod.securityContext?.runAsNonRoot, id).toBe(true);
      expect(pod.securityContext?.runAsUser, id).toBeGreaterThan(0);
      expect(
        labelsMatch(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels),
        id,
      ).toBe(true);
      for (const container of pod.containers) {
        expect(container.securityContext?.readOnlyRootFilesystem, id).toBe(true);
        expect(container.securityContext?.allowPrivilegeEscalation, id).toBe(false);
        expect(container.securityContext?.capabilities?.drop, id).toEqual(['ALL']);
        expect(container.resources?.requests?.cpu, id).toBeDefined();
        expect(container.resources?.requests?.memory, id).toBeDefined();
        expect(container.resources?.limits?.memory, id).toBeDefined();
        expect(container.readinessProbe, id).toBeDefined();
        expect(container.livenessProbe, id).toBeDefined();
      }
    }
  });

  it("probes and ports are the ones the gateway's own config gives, and its grace period is longer than its shutdown", async () => {
    const gateway = rendered.deployment('hlsdump-gateway');
    const env = rendered.environment(gateway);
    const config = loadGatewayConfig({
      ...env,
      REDIS_URL: env.REDIS_URL ?? 'redis://external-redis:6379',
      ACCESS_TOKEN: 'checked:elsewhere',
      HLSDUMP_ORIGINS: await originsOnDisk(rendered, env, work.path),
    });
    const container = gateway.spec.template.spec.containers[0]!;
    expect(probePort(container, container.readinessProbe)).toBe(config.port);
    expect(probePort(container, container.livenessProbe)).toBe(config.port);
    expect(container.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(container.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(gateway.spec.template.spec.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(
      config.shutdownTimeoutMs,
    );
    // The dumps volume is mounted where the gateway allows outputs.
    const dumps = container.volumeMounts!.find((m) => config.outputRoots.includes(m.mountPath));
    expect(dumps, `a volume at one of ${config.outputRoots.join(', ')}`).toBeDefined();
    // The token comes from a Secret the operator creates: none is shipped.
    const token = container.env?.find((e) => e.name === 'ACCESS_TOKEN')?.valueFrom?.secretKeyRef;
    expect(token).toEqual({ name: 'hlsdump-access-token', key: 'ACCESS_TOKEN' });
    expect(rendered.all('Secret')).toEqual([]);
    const service = rendered.find<
      KubeObject & {
        spec: {
          selector: Record<string, string>;
          ports: { port: number; targetPort: string | number }[];
        };
      }
    >('Service', 'hlsdump-gateway');
    expect(labelsMatch(service.spec.selector, gateway.spec.template.metadata.labels)).toBe(true);
    expect(service.spec.ports[0]!.port).toBe(config.port);
    expect(
      probePort(container, { httpGet: { path: '/', port: service.spec.ports[0]!.targetPort } }),
    ).toBe(config.port);
  });

  it("probes and ports are the ones the worker's own config gives, and its grace period is longer than its hand-off", () => {
    const worker = rendered.deployment('hlsdump-worker');
    const env = rendered.environment(worker);
    const config = loadWorkerConfig({
      ...env,
      REDIS_URL: env.REDIS_URL ?? 'redis://external-redis:6379',
    });
    const pod = worker.spec.template.spec;
    const container = pod.containers[0]!;
    // SIGTERM hands every dump off within SHUTDOWN_TIMEOUT_MS: Kubernetes must wait longer.
    expect(pod.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(config.shutdownTimeoutMs);
    const metricsPort = (config as { metricsPort?: number }).metricsPort;
    expect(metricsPort, 'the worker config has a METRICS_PORT').toBeTypeOf('number');
    expect(probePort(container, container.readinessProbe)).toBe(metricsPort);
    expect(probePort(container, container.livenessProbe)).toBe(metricsPort);
    expect(container.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(container.livenessProbe?.httpGet?.path).toBe('/healthz');
    // The autoscaler owns the worker count.
    expect(worker.spec.replicas).toBeUndefined();
  });

  it('shares one ReadWriteMany volume for the dumps, and budgets disruptions for every Deployment', () => {
    const claim = rendered.find<KubeObject & { spec: { accessModes: string[] } }>(
      'PersistentVolumeClaim',
      'hlsdump-dumps',
    );
    expect(claim.spec.accessModes).toEqual(['ReadWriteMany']);
    for (const name of ['hlsdump-gateway', 'hlsdump-worker']) {
      const volumes = rendered.deployment(name).spec.template.spec.volumes ?? [];
      expect(
        volumes.some((v) => v.persistentVolumeClaim?.claimName === 'hlsdump-dumps'),
        name,
      ).toBe(true);
    }
    const budgets = rendered.all<
      KubeObject & { spec: { selector: { matchLabels: Record<string, string> } } }
    >('PodDisruptionBudget');
    for (const name of ['hlsdump-gateway', 'hlsdump-worker']) {
      const labels = rendered.deployment(name).spec.template.metadata.labels;
      expect(
        budgets.some((b) => labelsMatch(b.spec.selector.matchLabels, labels)),
        name,
      ).toBe(true);
    }
  });

  it('denies ingress by default and opens exactly the ports the pods serve', () => {
    type Policy = KubeObject & {
      spec: {
        podSelector: { matchLabels?: Record<string, string> };
        policyTypes: string[];
        ingress?: { ports?: { port: number }[] }[];
      };
    };
    const policies = rendered.all<Policy>('NetworkPolicy');
    expect(
      policies.some(
        (p) => Object.keys(p.spec.podSelector).length === 0 && p.spec.ingress === undefined,
      ),
      'a default-deny ingress policy',
    ).toBe(true);
    for (const deployment of rendered.all<DeploymentObject>('Deployment')) {
      const labels = deployment.spec.template.metadata.labels;
      const open = policies
        .filter(
          (p) =>
            p.spec.podSelector.matchLabels && labelsMatch(p.spec.podSelector.matchLabels, labels),
        )
        .flatMap((p) =>
          (p.spec.ingress ?? []).flatMap((rule) => (rule.ports ?? []).map((port) => port.port)),
        );
      const served = deployment.spec.template.spec.containers.flatMap((c) =>
        (c.ports ?? []).map((p) => p.containerPort),
      );
      expect(open.sort(), deployment.metadata.name).toEqual(served.sort());
    }
  });

  it('scales workers on dumps running + queued against the per-worker capacity', () => {
    const capacity = Number(rendered.configData('hlsdump-gateway').WORKER_CAPACITY);
    expect(capacity).toBeGreaterThan(0);
    const worker = rendered.deployment('hlsdump-worker');
    const scaledObjects = rendered.all<
      KubeObject & {
        spec: {
          scaleTargetRef: { name: string; kind?: string };
          triggers: { type: string; metricType?: string; metadata: Record<string, string> }[];
        };
      }
    >('ScaledObject');
    const hpas = rendered.all<
      KubeObject & {
        spec: {
          scaleTargetRef: { kind: string; name: string };
          metrics: { type: string; external?: { target: { averageValue?: string } } }[];
        };
      }
    >('HorizontalPodAutoscaler');
    expect(scaledObjects.length + hpas.length, 'exactly one autoscaler').toBe(1);
    if (overlay.endsWith('-keda')) {
      const scaled = scaledObjects[0]!;
      expect(scaled.spec.scaleTargetRef.name).toBe(worker.metadata.name);
      const [trigger] = scaled.spec.triggers;
      expect(trigger?.type).toBe('metrics-api');
      expect(trigger?.metricType).toBe('AverageValue');
      expect(trigger?.metadata.valueLocation).toBe('dumpsWanted');
      expect(Number(trigger?.metadata.targetValue)).toBe(capacity);
      // The URL reaches the gateway's Service, in this namespace, on its port, at /scaling.
      const url = new URL(trigger!.metadata.url!);
      const service = rendered.find<KubeObject & { spec: { ports: { port: number }[] } }>(
        'Service',
        'hlsdump-gateway',
      );
      expect(url.hostname).toBe(
        `${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local`,
      );
      expect(Number(url.port)).toBe(service.spec.ports[0]!.port);
      expect(url.pathname).toBe('/scaling');
    } else {
      const hpa = hpas[0]!;
      expect(hpa.spec.scaleTargetRef).toMatchObject({
        kind: 'Deployment',
        name: worker.metadata.name,
      });
      const external = hpa.spec.metrics.find((m) => m.type === 'External');
      expect(Number(external?.external?.target.averageValue)).toBe(capacity);
    }
  });
});

describe('the built services answer the probes of the manifests', () => {
  let redis: TestRedis;
  let work: Awaited<ReturnType<typeof tempDir>>;
  const processes: ServiceProcess[] = [];
  beforeAll(async () => {
    for (const entry of [GATEWAY_MAIN, WORKER_MAIN])
      if (!existsSync(entry)) throw new Error(`${entry} is missing: run npx turbo run build first`);
    redis = await startTestRedis();
    work = await tempDir('kubernetes-probes');
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
    await redis?.stop();
    await work?.remove();
  });

  /** GETs every probe of `container` on `port` (the probe's own, moved to a free one) until 200. */
  const answersProbes = async (service: ServiceProcess, container: Container, port: number) => {
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      const url = `http://127.0.0.1:${port}${probe!.httpGet!.path}`;
      await waitFor(
        `${service.name} to answer ${probe!.httpGet!.path} with 200`,
        async () => (await fetch(url)).ok,
        {
          timeoutMs: 20_000,
          details: () => service.output().slice(-3_000),
        },
      );
    }
  };

  it('gateway and worker, started with the environment of the bundled-Redis overlay', async () => {
    const rendered = new Rendered(render(OVERLAYS.find((o) => o.startsWith('bundled-'))!));
    const outputRoot = join(work.path, 'dumps');
    await mkdir(outputRoot);
    const gateway = rendered.deployment('hlsdump-gateway');
    const gatewayEnv = rendered.environment(gateway);
    // Fixed ports in a pod are free ports here; Redis and paths are the test's own.
    const gatewayPort = await findFreePort();
    const gatewayProcess = new ServiceProcess('gateway', GATEWAY_MAIN, {
      ...gatewayEnv,
      REDIS_URL: redis.url,
      PORT: String(gatewayPort),
      HOST: '127.0.0.1',
      ACCESS_TOKEN: 'probe:check',
      OUTPUT_ROOTS: outputRoot,
      HLSDUMP_ORIGINS: await originsOnDisk(rendered, gatewayEnv, work.path),
    });
    processes.push(gatewayProcess);
    await answersProbes(gatewayProcess, gateway.spec.template.spec.containers[0]!, gatewayPort);

    const worker = rendered.deployment('hlsdump-worker');
    const workerPort = await findFreePort();
    const workerProcess = new ServiceProcess('worker', WORKER_MAIN, {
      ...rendered.environment(worker),
      REDIS_URL: redis.url,
      METRICS_PORT: String(workerPort),
    });
    processes.push(workerProcess);
    await answersProbes(workerProcess, worker.spec.template.spec.containers[0]!, workerPort);
  }, 60_000);
});
