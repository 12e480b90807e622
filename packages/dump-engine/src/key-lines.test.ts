import { describe, expect, it } from 'vitest';
import { localKeyLines } from './key-lines.js';

const PLAYLIST = 'https://origin.example/live/stream.m3u8?token=abc';

describe('localKeyLines', () => {
  it('copies an AES-128 key and points the tag at the local file, IV kept', async () => {
    const copied: string[] = [];
    const result = await localKeyLines(
      ['#EXT-X-KEY:METHOD=AES-128,URI="keys/k1.key?token=t",IV=0x0102'],
      PLAYLIST,
      async (url) => {
        copied.push(url);
        return 'k1.key';
      },
    );
    expect(copied).toEqual(['https://origin.example/live/keys/k1.key?token=t']);
    expect(result.lines).toEqual(['#EXT-X-KEY:METHOD=AES-128,URI="k1.key",IV=0x0102']);
    expect(result.notices).toEqual([]);
  });

  it('keeps key systems as written, a relative URI made absolute, and tells what needs a server', async () => {
    const never = async (): Promise<string> => {
      throw new Error('no key system key is fetched');
    };
    const result = await localKeyLines(
      [
        '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://asset-1",KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"',
        '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="data:text/plain;base64,AAAA",KEYFORMAT="urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"',
        '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="license/key",KEYFORMAT="identity"',
      ],
      PLAYLIST,
      never,
    );
    expect(result.lines).toEqual([
      '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://asset-1",KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"',
      '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="data:text/plain;base64,AAAA",KEYFORMAT="urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"',
      '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="https://origin.example/live/license/key",KEYFORMAT="identity"',
    ]);
    expect(result.notices.map((n) => n.message)).toEqual([
      'METHOD=SAMPLE-AES KEYFORMAT=com.apple.streamingkeydelivery kept as is: the copy plays only where a license server of com.apple.streamingkeydelivery answers',
      'METHOD=SAMPLE-AES KEYFORMAT=urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed kept as is: the copy plays only where a license server of urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed answers',
      'METHOD=SAMPLE-AES KEYFORMAT=identity kept as is: the copy plays only where https://origin.example answers for its key',
    ]);
  });

  it('tells nothing of an identity key given in a data: URI: the tag holds the key', async () => {
    const line =
      '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="data:application/octet-stream;base64,AAECAwQFBgcICQoLDA0ODw==",IV=0x01';
    const result = await localKeyLines([line], PLAYLIST, async () => 'never');
    expect(result.lines).toEqual([line]);
    expect(result.notices).toEqual([]);
  });

  it('keeps METHOD=NONE', async () => {
    const result = await localKeyLines(['#EXT-X-KEY:METHOD=NONE'], PLAYLIST, async () => 'x');
    expect(result.lines).toEqual(['#EXT-X-KEY:METHOD=NONE']);
  });
});
