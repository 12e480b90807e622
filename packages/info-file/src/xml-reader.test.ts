import { describe, expect, it } from 'vitest';
import { readXml, XmlSyntaxError } from './xml-reader.js';

describe('readXml', () => {
  it('reads elements, text, references, comments, CDATA and attributes', () => {
    const root = readXml(
      '<?xml version="1.0" encoding="UTF-8"?>\n<!-- a -->\n<r a="1 &amp; 2">x&lt;&#45;&#x4E2D;<b/><![CDATA[<&]]><!----><?pi data?></r>\n',
    );
    expect(root.name).toBe('r');
    expect(root.attributes.get('a')).toBe('1 & 2');
    expect(root.children).toEqual([
      'x<-中',
      { name: 'b', attributes: new Map(), children: [] },
      '<&',
    ]);
  });

  it.each([
    ['-- inside a comment', '<r><!-- a -- b --></r>'],
    ['comment ending in -', '<r><!-- a ---></r>'],
    ['space after <', '<r>< !-- --></r>'],
    ['bare <', '<r>a < b</r>'],
    [']]> in text', '<r>]]></r>'],
    ['control character', '<r>\u0001</r>'],
    ['reference to a forbidden character', '<r>&#1;</r>'],
    ['unknown entity', '<r>&nbsp;</r>'],
    ['bare &', '<r>a & b</r>'],
    ['DOCTYPE', '<!DOCTYPE r><r/>'],
    ['two roots', '<r/><s/>'],
    ['text after the root', '<r/>x'],
    ['unclosed element', '<r><s></r>'],
    ['truncated document', '<r><s>'],
    ['empty document', ''],
    ['declaration not first', ' <?xml version="1.0"?><r/>'],
    ['duplicate attribute', '<r a="1" a="2"/>'],
    ['lone surrogate', '<r>\uD800</r>'],
  ])('rejects %s', (_label, text) => {
    expect(() => readXml(text)).toThrow(XmlSyntaxError);
  });
});
