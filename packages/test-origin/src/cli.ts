#!/usr/bin/env node
// hlsdump-test-origin: run the LL-HLS test origin by hand (demo, benchmarks, manual players).
import { parseArgs } from 'node:util';
import { createTestOrigin } from './origin-server.js';
import type { StreamMode } from './live-stream.js';

const USAGE = `usage: hlsdump-test-origin [--port 9000] [--host 127.0.0.1] [--streams app/stream[,app/stream2...]]
                           [--mode llhls|hls] [--speed 1] [--window 10] [--parts-per-segment 4]`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '9000' },
      host: { type: 'string', default: '127.0.0.1' },
      streams: { type: 'string', default: 'app/stream' },
      mode: { type: 'string', default: 'llhls' },
      speed: { type: 'string', default: '1' },
      window: { type: 'string', default: '10' },
      'parts-per-segment': { type: 'string', default: '4' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const mode = values.mode as StreamMode;
  if (mode !== 'llhls' && mode !== 'hls') throw new Error(`--mode must be llhls or hls\n${USAGE}`);
  const number = (name: string, raw: string): number => {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new Error(`--${name} must be a number\n${USAGE}`);
    return n;
  };

  const origin = await createTestOrigin({
    host: values.host,
    port: number('port', values.port),
    speed: number('speed', values.speed),
  });
  for (const spec of values.streams.split(',').filter(Boolean)) {
    const [app, stream, extra] = spec.split('/');
    if (!app || !stream || extra !== undefined)
      throw new Error(`bad stream "${spec}", expected app/stream`);
    const control = origin.addStream(app, stream, {
      mode,
      windowSegments: number('window', values.window),
      partsPerSegment: number('parts-per-segment', values['parts-per-segment']),
    });
    console.log(control.masterUrl);
  }

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.error(`${signal}: closing origin`);
    origin.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(2);
});
