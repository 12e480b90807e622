import type { CreateDump } from './engine.js';

const CRASH_DELAY_MS = 200;

/**
 * The test-only fault behind `TEST_CRASH_ON_OUTPUT_STREAM`: the worker process dies at once (as
 * on a native crash or the OOM killer: no handler runs) 200 ms after a dump of that output stream
 * wrote a segment. Tests use it to make a poison dump; nothing sets it in production.
 */
export function withCrashFault(
  createDump: CreateDump,
  outputStreamName: string,
  die: () => void = () => process.kill(process.pid, 'SIGKILL'),
): CreateDump {
  return (request, options) => {
    const dump = createDump(request, options);
    if (request.streamName.split('/').at(-1) === outputStreamName) {
      let armed = true;
      dump.on((event) => {
        if (!armed || event.type !== 'file' || event.kind !== 'segment') return;
        armed = false;
        process.stderr.write(
          `test fault: killing worker ${process.pid} on ${request.streamName}\n`,
        );
        // A moment later, so the dump is acknowledged Running first: it dies while it runs.
        setTimeout(die, CRASH_DELAY_MS);
      });
    }
    return dump;
  };
}
