import { uuidText, uuidWords } from './uuid';

describe('uuidWords / uuidText', () => {
  it('reads canonical lowercase UUID text into 128 bits and writes the same text back', () => {
    const words = new Int32Array(8);
    for (const id of ['00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '0123abcd-4567-4890-abcd-ef0123456789']) {
      expect(uuidWords(id, words, 4)).toBe(true);
      expect(uuidText(words, 4)).toBe(id);
    }
    expect([words[4], words[5], words[6], words[7]]).toEqual([0x0123abcd, 0x45674890, 0xabcdef01 | 0, 0x23456789]);
  });

  it('takes nothing else: upper case, other lengths, misplaced dashes, other characters', () => {
    const words = new Int32Array(4);
    for (const id of ['0123ABCD-4567-4890-abcd-ef0123456789', '0123abcd-4567-4890-abcd-ef012345678', '0123abcd4-567-4890-abcd-ef0123456789', '0123abcg-4567-4890-abcd-ef0123456789', '']) {
      expect(uuidWords(id, words, 0)).toBe(false);
    }
  });
});
