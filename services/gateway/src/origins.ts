import { readFileSync } from 'node:fs';
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

  constructor(file: OriginsFile) {
    for (const [vhost, { apps }] of Object.entries(file.vhosts)) {
      const byApp = new Map<string, AppOrigin>();
      for (const [app, config] of Object.entries(apps)) {
        byApp.set(app, {
          vhost,
          app,
          template: config.origin,
          defaultPlaylist: config.defaultPlaylist,
        });
      }
      this.vhosts.set(vhost, byApp);
    }
  }

  static fromFile(path: string): Origins {
    return new Origins(originsFileSchema.parse(JSON.parse(readFileSync(path, 'utf8'))));
  }

  /** SPEC §3 checks 2 and 3. */
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
