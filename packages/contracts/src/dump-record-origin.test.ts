import { describe, expect, it } from 'vitest';
import { recordFromHash, startParamsToFields, type DumpStartParams } from './dump-record.js';

describe('dump record: the origin access the worker needs', () => {
  it('carries the app’s headers and CA file from start to the record a worker reads', () => {
    const params: DumpStartParams = {
      vhost: 'default',
      app: 'app',
      stream: 's',
      outputStreamName: 's_o',
      id: 'd1',
      outputPath: '/dumps/d1',
      playlists: ['master.m3u8'],
      originBaseUrl: 'https://cdn.example/app/s_o/',
      originHeaders: { Authorization: 'Bearer x', 'X-Edge': 'a,b' },
      originCaFile: '/etc/hlsdump/ca.pem',
    };
    const hash = {
      ...startParamsToFields(params),
      state: 'Queued',
      runId: '0123456789abcdef',
      jobId: 'j',
    };
    const record = recordFromHash('k', hash);
    expect(record?.originHeaders).toEqual(params.originHeaders);
    expect(record?.originCaFile).toBe('/etc/hlsdump/ca.pem');
  });

  it('a record without them has none', () => {
    const record = recordFromHash('k', {
      ...startParamsToFields({
        vhost: 'v',
        app: 'a',
        stream: 's',
        outputStreamName: 'o',
        id: 'i',
        outputPath: '/o',
        playlists: ['m.m3u8'],
        originBaseUrl: 'http://o/',
      }),
      state: 'Queued',
      runId: '0123456789abcdef',
      jobId: 'j',
    });
    expect(record?.originHeaders).toBeUndefined();
    expect(record?.originCaFile).toBeUndefined();
  });
});
