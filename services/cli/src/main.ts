#!/usr/bin/env node
import { HlsDump, originClientFor, type EngineEvent } from '@hlsdump/dump-engine';
import { LocalStorage } from '@hlsdump/storage';
import { USAGE, UsageError, parseCliArgs, type CliCommand } from './cli-args.js';

async function dump({ request, durationSeconds }: CliCommand): Promise<number> {
  let client;
  try {
    client = originClientFor(request);
  } catch (error) {
    process.stderr.write(`hlsdump: cannot start: ${(error as Error).message}\n`);
    return 1;
  }
  const dump = new HlsDump(request, { storage: new LocalStorage(), client });
  dump.on((event) => report(event));
  try {
    await dump.start();
  } catch (error) {
    process.stderr.write(`hlsdump: cannot start: ${(error as Error).message}\n`);
    await client.close();
    return 1;
  }
  process.stderr.write(`hlsdump: recording ${request.originBaseUrl} into ${request.outputPath}\n`);
  const stop = () => void dump.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const timer =
    durationSeconds === undefined ? undefined : setTimeout(stop, durationSeconds * 1000);
  const result = await dump.done;
  clearTimeout(timer);
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  await client.close();
  const summary = `${result.filesWritten} files, ${result.bytesWritten} bytes, ${result.gaps} gaps`;
  if (result.status === 'Completed') {
    process.stderr.write(`hlsdump: completed: ${summary}\n`);
    return 0;
  }
  process.stderr.write(
    `hlsdump: ${result.status}: ${result.error?.message ?? 'unknown error'} (${summary})\n`,
  );
  return 1;
}

function report(event: EngineEvent): void {
  if (event.type === 'gap') {
    process.stderr.write(
      `hlsdump: gap in ${event.chunklist} at segment ${event.msn}: ${event.reason}\n`,
    );
  } else if (event.type === 'notice') {
    process.stderr.write(`hlsdump: ${event.chunklist}: ${event.tag} ${event.message}\n`);
  } else if (event.type === 'status' && event.error) {
    process.stderr.write(`hlsdump: ${event.status}: ${event.error.code}: ${event.error.message}\n`);
  }
}

async function main(argv: string[]): Promise<number> {
  let command: CliCommand;
  try {
    command = parseCliArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (error.message) process.stderr.write(`hlsdump: ${error.message}\n\n`);
    process.stderr.write(`${USAGE}\n`);
    return error.message ? 2 : 0;
  }
  return dump(command);
}

process.exitCode = await main(process.argv.slice(2));
