import { describe, expect, it } from 'vitest';
import { exactNumber, parseValueText } from '../../src/lib/client/value-text.js';

describe('records form: the typed value', () => {
  it('is JSON when it parses with every number exact, otherwise the text', () => {
    expect(parseValueText('42')).toBe(42);
    expect(parseValueText(' -1.5e3 ')).toBe(-1500);
    expect(parseValueText('true')).toBe(true);
    expect(parseValueText('null')).toBe(null);
    expect(parseValueText('"42"')).toBe('42');
    expect(parseValueText('{"a":[1,2.25,{"b":-0.001}]}')).toEqual({ a: [1, 2.25, { b: -0.001 }] });
    expect(parseValueText('{"a":')).toBe('{"a":');
    expect(parseValueText('hello')).toBe('hello');
    for (const lossy of [
      '12345678901234567890',
      '1e999',
      '-1e999',
      '0.30000000000000000001',
      '1e-400',
      '9007199254740993.0',
      '{"id":12345678901234567890}',
      '[9007199254740993]'
    ])
      expect(parseValueText(lossy)).toBe(lossy);
    // Digits inside strings are text, not numbers.
    expect(parseValueText('{"id":"12345678901234567890","n":1}')).toEqual({ id: '12345678901234567890', n: 1 });
    expect(parseValueText('["a\\"12345678901234567890"]')).toEqual(['a"12345678901234567890']);
  });

  it('judges a number literal exact when the double prints the same decimal number', () => {
    for (const ok of [
      '0',
      '-0',
      '0.0',
      '1.0',
      '100',
      '1e2',
      '1.50',
      '0.1',
      '9007199254740991',
      '5e-324',
      '1.7976931348623157e308'
    ])
      expect(exactNumber(ok), ok).toBe(true);
    for (const bad of ['9007199254740993', '0.1000000000000000055511151231257827', '1e400', '2e-400'])
      expect(exactNumber(bad), bad).toBe(false);
  });
});
