import type { ServiceProcess } from './service-process.ts';

/** One sample of a Prometheus text exposition: `name{label="value",...} number`. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the text format's samples (comments skipped); a malformed line fails loudly. */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g))
      labels[key!] = value!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const raw = match[3]!;
    // Go's ParseFloat, which Prometheus uses, reads NaN in any case (prom-client writes `Nan`).
    const value = /^nan$/i.test(raw)
      ? NaN
      : raw === '+Inf'
        ? Infinity
        : raw === '-Inf'
          ? -Infinity
          : Number(raw);
    if (Number.isNaN(value) && !/^nan$/i.test(raw)) throw new Error(`bad value in: ${line}`);
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** A scrape, queried by name and labels. */
export class Scrape {
  readonly text: string;
  readonly samples: Sample[];

  constructor(text: string, samples: Sample[] = parsePrometheusText(text)) {
    this.text = text;
    this.samples = samples;
  }

  /** The sum of every sample of `name` whose labels include `labels` (0 when none). */
  sum(name: string, labels: Record<string, string> = {}): number {
    return this.matching(name, labels).reduce((sum, s) => sum + s.value, 0);
  }

  has(name: string): boolean {
    return this.samples.some((s) => s.name === name);
  }

  matching(name: string, labels: Record<string, string> = {}): Sample[] {
    return this.samples.filter(
      (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
  }
}

export async function scrape(url: string): Promise<Scrape> {
  const response = await fetch(url);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${text}`);
  if (!/^text\/plain; version=0\.0\.4/.test(response.headers.get('content-type') ?? ''))
    throw new Error(`${url}: content-type ${response.headers.get('content-type')}`);
  return new Scrape(text);
}

/** The base URL of a worker process's metrics server (it logs the port it bound). */
export async function workerMetricsUrl(worker: ServiceProcess): Promise<string> {
  const [, port] = await worker.waitForOutput(/"metricsPort":(\d+)/);
  return `http://127.0.0.1:${port}`;
}

/** Summed over several processes (a dump handed from one worker to another counts on both). */
export function total(
  scrapes: Scrape[],
  name: string,
  labels: Record<string, string> = {},
): number {
  return scrapes.reduce((sum, s) => sum + s.sum(name, labels), 0);
}
