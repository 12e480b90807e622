import { describe, expect, it } from 'vitest';
import { masterOriginNotices } from './master-origin-notices.js';

describe('masterOriginNotices', () => {
  it('tells each line of a copied master that still names the origin, and only those', () => {
    const master = [
      '#EXTM3U',
      '#EXT-X-SESSION-DATA:DATA-ID="com.example.title",VALUE="a title"',
      '#EXT-X-SESSION-DATA:DATA-ID="com.example.lyrics",URI="https://origin.example/live/session.json?token=t"',
      '#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI="skd://asset-1",KEYFORMAT="com.apple.streamingkeydelivery"',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="en",URI="audio_en.m3u8"',
      '# a comment naming https://origin.example/',
      '#EXT-X-STREAM-INF:BANDWIDTH=1000',
      'video.m3u8',
      '#EXT-X-STREAM-INF:BANDWIDTH=2000',
      'http://other.example/variant.m3u8',
    ].join('\n');
    expect(masterOriginNotices(master)).toEqual([
      {
        tag: 'EXT-X-SESSION-DATA',
        message:
          'URI kept at the origin: the copy reads /live/session.json only where https://origin.example answers',
      },
      {
        tag: 'URI',
        message:
          'URI kept at the origin: the copy reads /variant.m3u8 only where http://other.example answers',
      },
    ]);
  });
});
