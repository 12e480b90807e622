import { readFileSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { z } from 'zod';
import { UnknownAppError, UnknownVhostError } from './errors.js';

/**
 * Where each vhost/app's streams live: `{"vhosts":{"default":{"apps":{"app":{"origin":
 * "http://ome:3333/{app}/{outputStreamName}/","defaultPlaylist":"llhls.m3u8"}}}}}`.
 * `{vhost}`, `{app}`, `{stream}`, `{outputStreamName}` expand, URL-encoded.
 */
const PLACEHOLDERS = ['vhost', 'app', 'stream', 'outputStreamName'] as const;

const appSchema = z.object({
  origin: z.string().refine((template) => isHttpUrl(expandTemplate(template, sampleNames())), {
    message: 'origin must be an http(s) URL template',
  }),
  defaultPlaylist: z.string().default('llhls.m3u8'),
  /** Sent with every request to this app's origin (e.g. an Authorization). */
  headers: z.record(z.string(), z.string()).optional(),
  /** PEM file of the CA that signed an HTTPS origin's certificate; relative to the origins file. */
  caFile: z.string().min(1).optional(),
});
export const originsFileSchema = z.object({
  vhosts: z.record(z.string(), z.object({ apps: z.record(z.string(), appSchema) })),
});
export type OriginsFile = z.infer<typeof originsFileSchema>;

export interface AppOrigin {
  vhost: string;
  app: string;
  template: string;
  defaultPlaylist: string;
  /** How to reach the origin beyond its URL: request headers, a CA file. */
  access: OriginAccess;
}

export interface OriginAccess {
  headers?: Record<string, string>;
  /** Absolute path of a PEM CA file. */
  caFile?: string;
}

export interface StreamNames {
  vhost: string;
  app: string;
  stream: string;
  outputStreamName: string;
}

export class Origins {
  // Maps, not objects: a vhost named `constructor` or `__proto__` must be unknown, not Object's.
  private readonly vhosts = new Map<string, Map<string, AppOrigin>>();

  constructor(file: OriginsFile, baseDir = process.cwd()) {
    for (const [vhost, { apps }] of Object.entries(file.vhosts)) {
      const byApp = new Map<string, AppOrigin>();
      for (const [app, config] of Object.entries(apps)) {
        byApp.set(app, {
          vhost,
          app,
          template: config.origin,
          defaultPlaylist: config.defaultPlaylist,
          access: {
            ...(config.headers && { headers: config.headers }),
            ...(config.caFile !== undefined && { caFile: resolve(baseDir, config.caFile) }),
          },
        });
      }
      this.vhosts.set(vhost, byApp);
    }
  }

  static fromFile(path: string): Origins {
    const origins = new Origins(
      originsFileSchema.parse(JSON.parse(readFileSync(path, 'utf8'))),
      dirname(resolve(path)),
    );
    // A CA file that cannot be read stops the gateway at start, not a dump later.
    for (const apps of origins.vhosts.values()) {
      for (const { vhost, app, access } of apps.values()) {
        if (access.caFile === undefined) continue;
        try {
          readFileSync(access.caFile);
        } catch (error) {
          throw new Error(
            `vhosts.${vhost}.apps.${app}.caFile: cannot read ${access.caFile}: ${(error as Error).message}`,
          );
        }
      }
    }
    return origins;
  }

  /** Checks 2 and 3 of docs/api.md#start-checks. */
  app(vhost: string, app: string): AppOrigin {
    const apps = this.vhosts.get(vhost);
    if (!apps) throw new UnknownVhostError(vhost);
    const config = apps.get(app);
    if (!config) throw new UnknownAppError(vhost, app);
    return config;
  }
}

/** The stream's base URL at the origin, always ending with `/`. */
export function originBaseUrl(app: AppOrigin, names: StreamNames): string {
  const url = expandTemplate(app.template, names);
  return url.endsWith('/') ? url : `${url}/`;
}

function expandTemplate(template: string, names: StreamNames): string {
  let url = template;
  for (const name of PLACEHOLDERS)
    url = url.replaceAll(`{${name}}`, encodeURIComponent(names[name]));
  return url;
}

function sampleNames(): StreamNames {
  return { vhost: 'v', app: 'a', stream: 's', outputStreamName: 'o' };
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
