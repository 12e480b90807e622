import { describe, expect, it } from 'vitest';
import { InfoFileFormatError, parseInfoFile } from './parse-info-file.js';
import { XmlSyntaxError } from './xml-reader.js';

const good = `<?xml version="1.0" encoding="UTF-8"?>
<HLSDumpInfo>
  <UserData>u</UserData>
  <Stream>/v/a/s</Stream>
  <Status>Error</Status>
  <Error>disk full</Error>
  <Items>
    <Item><Seq>0</Seq><Time>t0</Time><File>/a</File></Item>
    <Item><Seq>1</Seq><Time>t1</Time><File>/b</File></Item>
<!--    -->
  </Items>
</HLSDumpInfo>
`;

describe('parseInfoFile', () => {
  it('reads every part', () => {
    expect(parseInfoFile(good)).toEqual({
      userData: 'u',
      stream: '/v/a/s',
      status: 'Error',
      error: 'disk full',
      items: [
        { seq: 0, time: 't0', file: '/a' },
        { seq: 1, time: 't1', file: '/b' },
      ],
    });
  });

  it.each([
    ['no Stream', good.replace('<Stream>/v/a/s</Stream>', '')],
    ['no Items', good.replace(/<Items>[^]*<\/Items>/, '')],
    ['unknown status', good.replace('<Status>Error</Status>', '<Status>Done</Status>')],
    ['Item without File', good.replace('<File>/b</File>', '')],
    ['bad Seq', good.replace('<Seq>1</Seq>', '<Seq>01</Seq>')],
    ['repeated Stream', good.replace('<Stream>', '<Stream>x</Stream><Stream>')],
    ['unknown element', good.replace('<Items>', '<Other/><Items>')],
    ['wrong root', good.replaceAll('HLSDumpInfo', 'Other')],
  ])('rejects %s', (_label, text) => {
    expect(() => parseInfoFile(text)).toThrow(InfoFileFormatError);
  });

  it('ignores text between elements, as an append in progress leaves it', () => {
    const midPatch = good.replace('<!--    -->', ' !--    -->');
    expect(parseInfoFile(midPatch).items).toHaveLength(2);
  });

  it('rejects XML that is not well-formed', () => {
    expect(() => parseInfoFile(good.replace('<!--    -->', '<!-- -- -->'))).toThrow(XmlSyntaxError);
    expect(() => parseInfoFile(good.slice(0, -5))).toThrow(XmlSyntaxError);
  });
});
