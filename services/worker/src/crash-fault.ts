import type { CreateDump } from './engine.js';

/**
 * The test-only fault behind `TEST_CRASH_ON_OUTPUT_STREAM`: the worker process dies at once (as
 * on a native crash or the OOM killer, no handler runs) when a dump of that output stream has
 * written a segment. Tests use it to make a poison dump; nothing sets it in production.
 */
export function withCrashFault(
  createDump: CreateDump,
  outputStreamName: string,
  die: () => void = () => process.kill(process.pid, 'SIGKILL'),
): CreateDump {
  return (request, options) => {
    const dump = createDump(request, options);
    if (request.streamName.split('/').at(-1) === outputStreamName) {
      dump.on((event) => {
        if (event.type === 'file' && event.kind === 'segment') {
          process.stderr.write(`test fault: killing worker ${process.pid} on ${request.streamName}\n`);
          die();
        }
      });
    }
    return dump;
  };
}
