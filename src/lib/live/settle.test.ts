import { describe, expect, it } from 'vitest';
import { PartialSettler, textUnits } from './settle';

describe('textUnits', () => {
  it('splits words with their spaces and CJK per character', () => {
    expect(textUnits('hello big world')).toEqual(['hello', ' big', ' world']);
    expect(textUnits('你好世界')).toEqual(['你', '好', '世', '界']);
    expect(textUnits('我说 OK 了').join('')).toBe('我说 OK 了');
  });
});

describe('PartialSettler', () => {
  it('settles what two passes agree on, minus the last units, and never takes it back', () => {
    const s = new PartialSettler(1);
    expect(s.update('the cat')).toEqual({ settled: '', tail: 'the cat' });
    expect(s.update('the cat sat on')).toEqual({ settled: 'the', tail: ' cat sat on' });
    expect(s.update('the cat sat on the mat')).toEqual({ settled: 'the cat sat', tail: ' on the mat' });
    // A pass that disagrees with settled text changes only the tail.
    const r = s.update('a cat sat on the mat');
    expect(r.settled).toBe('the cat sat');
    expect(r.settled + r.tail).not.toBe('');
  });
});
