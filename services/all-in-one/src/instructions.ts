import { join } from 'node:path';
import { DEMO_APP, DEMO_STREAM, DEMO_VHOST } from './demo-origin.js';

export interface RunningSetup {
  apiUrl: string;
  accessToken: string;
  redisUrl: string;
  ownRedis: boolean;
  masterUrl: string;
  demoSpeed: number;
  originsFile: string;
  originsJson: string;
  outputRoots: string[];
  logDir: string;
  logFiles: string[];
  /** A dump id this run has not used: the printed lines work as pasted. */
  dumpId: string;
}

/** POSIX shell single quoting: the printed lines paste into any sh-like shell as they are. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** What `npm start` prints once everything is ready: where things are, and curl lines to try. */
export function instructions(setup: RunningSetup): string {
  const root = setup.outputRoots[0]!;
  const outputPath = join(root, setup.dumpId);
  const infoFile = join(root, `${setup.dumpId}.xml`);
  const auth = `Authorization: Basic ${Buffer.from(setup.accessToken).toString('base64')}`;
  const streamUrl = `${setup.apiUrl}/v1/vhosts/${DEMO_VHOST}/apps/${DEMO_APP}/streams/${DEMO_STREAM}`;
  const post = (action: string, body?: object): string =>
    [
      'curl -sS -X POST',
      `-H ${shellQuote(auth)}`,
      ...(body
        ? [
            `-H ${shellQuote('Content-Type: application/json')}`,
            `-d ${shellQuote(JSON.stringify(body))}`,
          ]
        : []),
      shellQuote(`${streamUrl}:${action}`),
    ].join(' ');
  const start = post('startHlsDump', {
    outputStreamName: DEMO_STREAM,
    id: setup.dumpId,
    outputPath,
    infoFile,
  });
  const stop = post('stopHlsDump', { outputStreamName: DEMO_STREAM, id: setup.dumpId });
  const status = `curl -sS -H ${shellQuote(auth)} ${shellQuote(`${streamUrl}/hlsDumps/${setup.dumpId}`)}`;
  const list = post('hlsDumps');
  const speed = setup.demoSpeed === 1 ? 'real time' : `${setup.demoSpeed}x real time`;
  return [
    '',
    'hlsdump is running (gateway + worker + Redis + a demo origin).',
    '',
    `  API           ${setup.apiUrl}   (OvenMediaEngine's HLS Dump API)`,
    `  Access token  ${setup.accessToken}`,
    `  Redis         ${setup.redisUrl}${setup.ownRedis ? '   (our own redis-server, nothing persisted)' : ''}`,
    `  Demo stream   ${setup.masterUrl}   (live, ${speed})`,
    `  Output roots  ${setup.outputRoots.join(', ')}`,
    `  Logs          ${setup.logDir}   (${setup.logFiles.join(', ')})`,
    `  Origins file  ${setup.originsFile}:`,
    ...setup.originsJson.split('\n').map((line) => `    ${line}`),
    '',
    'Start a dump:',
    `  ${start}`,
    '',
    'Its status (segments, bytes, lag, owner):',
    `  ${status}`,
    '',
    'Every dump of the stream:',
    `  ${list}`,
    '',
    'Stop it (the chunklists are final and the infoFile says Completed once this answers):',
    `  ${stop}`,
    '',
    `Then play ${join(outputPath, 'llhls.m3u8')} (e.g. ffplay) and read ${infoFile}.`,
    'Ctrl-C stops everything: running dumps are stopped and finalized first.',
    '',
  ].join('\n');
}
