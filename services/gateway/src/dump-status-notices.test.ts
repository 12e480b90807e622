import { describe, expect, it } from 'vitest';
import type { DumpRecord } from '@hlsdump/contracts';
import { dumpStatus } from './dump-status.js';

const record: DumpRecord = {
  dumpKey: 'k',
  vhost: 'default',
  app: 'app',
  stream: 's',
  outputStreamName: 's_o',
  id: 'd1',
  outputPath: '/dumps/d1',
  playlists: ['master.m3u8'],
  originBaseUrl: 'http://o/',
  state: 'Running',
  runId: '0123456789abcdef',
  jobId: 'j',
  stopRequested: false,
  cancel: false,
  createdAt: 0,
  updatedAt: 0,
};

describe('dump status: what the dump could not honour', () => {
  it('lists the engine’s notices', () => {
    const notice =
      'stream.m3u8: EXT-X-KEY METHOD=SAMPLE-AES KEYFORMAT=com.apple.streamingkeydelivery kept as is';
    const status = dumpStatus({
      ...record,
      progress: {
        renditions: [],
        filesWritten: 3,
        bytesWritten: 10,
        gaps: 0,
        notices: [notice],
      },
    });
    expect(status.notices).toEqual([notice]);
  });

  it('says nothing when there is nothing to tell', () => {
    const status = dumpStatus({
      ...record,
      progress: { renditions: [], filesWritten: 0, bytesWritten: 0, gaps: 0, notices: [] },
    });
    expect(status.notices).toBeUndefined();
  });
});
