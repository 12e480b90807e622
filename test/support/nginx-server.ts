import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { findFreePort } from '@hlsdump/contracts';
import { tempDir } from './dump-kit.ts';
import { waitFor } from './wait-for.ts';

/** Debian installs nginx in /usr/sbin, which an unprivileged PATH may lack. */
const NGINX_BIN =
  process.env['NGINX_BIN'] ?? (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx');

export interface NginxServer {
  /** e.g. http://127.0.0.1:PORT (no trailing slash). */
  readonly url: string;
  /** Access log lines: `<connection> <nth request on it> <status> <Content-Encoding> <Transfer-Encoding> "<request>"`. */
  accessLog(): Promise<string[]>;
  close(): Promise<void>;
}

export interface NginxOptions {
  /** Requests served on one kept-alive connection before nginx closes it. */
  keepaliveRequests: number;
}

/**
 * Debian's nginx as a child process (`daemon off`), with its own config, pid, logs and temp paths
 * in a temp dir: static files from `root`, playlists gzipped (and so sent chunked), kept-alive
 * connections closed after `keepaliveRequests` requests, as CDNs and nginx's defaults do.
 */
export async function startNginx(root: string, options: NginxOptions): Promise<NginxServer> {
  const dir = await tempDir('nginx');
  const port = await findFreePort();
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(join(dir.path, sub));
  const accessLog = join(dir.path, 'access.log');
  const config = `
daemon off;
worker_processes 1;
pid ${dir.path}/nginx.pid;
error_log ${dir.path}/error.log warn;
${process.getuid?.() === 0 ? 'user root;' : ''}
events { worker_connections 256; }
http {
  types {
    application/vnd.apple.mpegurl m3u8;
    video/mp2t ts;
    video/iso.segment m4s;
    video/mp4 mp4;
  }
  default_type application/octet-stream;
  log_format probe '$connection $connection_requests $status $sent_http_content_encoding $sent_http_transfer_encoding "$request"';
  access_log ${accessLog} probe;
  client_body_temp_path ${dir.path}/body;
  proxy_temp_path ${dir.path}/proxy;
  fastcgi_temp_path ${dir.path}/fastcgi;
  uwsgi_temp_path ${dir.path}/uwsgi;
  scgi_temp_path ${dir.path}/scgi;
  keepalive_requests ${options.keepaliveRequests};
  gzip on;
  gzip_min_length 1;
  gzip_types application/vnd.apple.mpegurl application/x-mpegurl;
  chunked_transfer_encoding on;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location / { add_header Cache-Control no-cache; }
  }
}
`;
  const configFile = join(dir.path, 'nginx.conf');
  await writeFile(configFile, config);
  const child = spawn(
    NGINX_BIN,
    ['-p', dir.path, '-c', configFile, '-e', join(dir.path, 'error.log')],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGQUIT');
    await exited;
    await dir.remove();
  };
  try {
    await waitFor(
      `nginx to listen on ${port}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${output}`);
        return accepts(port);
      },
      { timeoutMs: 10_000, details: () => output },
    );
  } catch (error) {
    await close();
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    accessLog: async () =>
      (await readFile(accessLog, 'utf8').catch(() => '')).split('\n').filter((l) => l !== ''),
    close,
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
