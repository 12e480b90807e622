import { join } from 'node:path';
import { createTestOrigin, type StreamControl, type TestOrigin } from '@hlsdump/test-origin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineDumpFactory, type DumpHandle } from '../../services/worker/src/engine.js';
import { tempDir } from '../support/dump-kit.js';
import { verifyDump } from '../support/verify-dump.js';
import { waitFor } from '../support/wait-for.js';

/**
 * The worker's dumps reach an origin over connections they share: a connection one dump leaves
 * idle carries another's next request, instead of each dump keeping (and, past the origin's
 * keep-alive, reopening) its own. Ending one dump leaves the others recording.
 */
describe("a worker's dumps on one origin", () => {
  let origin: TestOrigin;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    origin = await createTestOrigin({ speed: 4 });
    dir = await tempDir('shared-connections');
  });
  afterAll(async () => {
    await origin?.close();
    await dir?.remove();
  });

  const segmentsOf = (dump: DumpHandle) =>
    Math.min(...dump.progress().renditions.map((r) => r.segments));
  /** The origin's connection numbers that carried this stream's requests. */
  const connectionsOf = (stream: StreamControl) =>
    new Set(stream.requests.flatMap((r) => (r.connection === undefined ? [] : [r.connection])));

  it('share connections, and one ending leaves the other recording byte-exact', async () => {
    const createDump = engineDumpFactory();
    const names = ['shared-a', 'shared-b'];
    const streams = names.map((name) => origin.addStream('app', name, { windowSegments: 12 }));
    const dumps = names.map((name, i) =>
      createDump(
        {
          originBaseUrl: new URL('.', streams[i]!.masterUrl).href,
          playlists: ['llhls.m3u8'],
          outputPath: join(dir.path, name),
          infoFile: join(dir.path, `${name}.xml`),
          streamName: `/default/app/${name}`,
        },
        { beforeWrite: () => undefined },
      ),
    );
    await Promise.all(dumps.map((d) => d.start()));
    const [a, b] = dumps as [DumpHandle, DumpHandle];
    await waitFor(
      '4 segments in every rendition of both',
      () => segmentsOf(a) >= 4 && segmentsOf(b) >= 4,
      {
        timeoutMs: 30_000,
      },
    );

    const usedByA = connectionsOf(streams[0]!);
    const usedByB = connectionsOf(streams[1]!);
    const both = [...usedByA].filter((c) => usedByB.has(c));
    const requests = streams.reduce((sum, s) => sum + s.requests.length, 0);
    expect(both.length, `connections A ${[...usedByA]}, B ${[...usedByB]}`).toBeGreaterThan(0);
    expect(new Set([...usedByA, ...usedByB]).size).toBeLessThan(requests / 2);

    expect((await a.stop()).status).toBe('Completed');
    await a.dispose?.();
    const bAtAStop = segmentsOf(b);
    await waitFor('3 more segments in B after A ended', () => segmentsOf(b) >= bAtAStop + 3, {
      timeoutMs: 30_000,
    });
    expect((await b.stop()).status).toBe('Completed');
    await b.dispose?.();

    for (const [i, name] of names.entries()) {
      const verified = await verifyDump(
        streams[i]!,
        {
          outputPath: join(dir.path, name),
          infoFile: join(dir.path, `${name}.xml`),
          streamName: `/default/app/${name}`,
        },
        { minSegments: 4 },
      );
      expect(verified.info.status).toBe('Completed');
    }
  }, 60_000);
});
