import { writeFile } from 'node:fs/promises';
import { createTestOrigin, type StreamControl, type TestOrigin } from '@hlsdump/test-origin';

export const DEMO_VHOST = 'default';
export const DEMO_APP = 'app';
export const DEMO_STREAM = 'stream';

export interface DemoOrigin {
  origin: TestOrigin;
  stream: StreamControl;
  /** The origins JSON the gateway reads (`HLSDUMP_ORIGINS`). */
  originsJson: string;
}

/**
 * The project's LL-HLS test origin with one live stream, `app/stream`, laid out as OME serves it
 * (`/{app}/{stream}/llhls.m3u8`), and the origins file that points the gateway at it.
 */
export async function startDemoOrigin(options: {
  port: number;
  speed: number;
  originsFile: string;
}): Promise<DemoOrigin> {
  const origin = await createTestOrigin({ port: options.port, speed: options.speed });
  const stream = origin.addStream(DEMO_APP, DEMO_STREAM, { windowSegments: 10 });
  const originsJson = JSON.stringify(
    {
      vhosts: {
        [DEMO_VHOST]: {
          apps: {
            [DEMO_APP]: {
              origin: `${origin.url}/{app}/{outputStreamName}/`,
              defaultPlaylist: 'llhls.m3u8',
            },
          },
        },
      },
    },
    null,
    2,
  );
  await writeFile(options.originsFile, `${originsJson}\n`);
  return { origin, stream, originsJson };
}
