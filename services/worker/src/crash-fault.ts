import type { DumpNotificationType } from '@hlsdump/contracts';
import type { CreateDump } from './engine.js';
import type { RunHooksFactory } from './run-hooks.js';

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

export interface EventCrashFault {
  outputStreamName: string;
  type: DumpNotificationType;
}

/**
 * The test-only fault behind `TEST_CRASH_AFTER_EVENT`: the worker process dies at once (no
 * handler runs) right after the registry write that carried an event of that type, for a dump of
 * that output stream, went through — before the run does anything else. Tests use it to show that
 * the event was recorded together with the change it tells; nothing sets it in production.
 */
export function withEventCrashFault(
  hooks: RunHooksFactory,
  faults: readonly EventCrashFault[],
  die: () => void = () => process.kill(process.pid, 'SIGKILL'),
): RunHooksFactory {
  return (record) => {
    const inner = hooks(record);
    const types = faults
      .filter((fault) => fault.outputStreamName === record.outputStreamName)
      .map((fault) => fault.type);
    if (types.length === 0) return inner;
    return {
      ...inner,
      recorded: (batch) => {
        inner.recorded(batch);
        const hit = batch?.events.find((event) =>
          types.includes(event.body.type as DumpNotificationType),
        );
        if (!hit) return;
        process.stderr.write(
          `test fault: killing worker ${process.pid} after recording ${String(hit.body.type)} of ${record.outputStreamName}\n`,
        );
        die();
      },
    };
  };
}
