// Chinese inverse text normalisation (ITN): spoken numbers in Simplified Chinese ASR output → digits.
//
// Qwen3-ASR writes numbers as words ("二零二四年三月五日下午三点二十分"); this module rewrites them as
// "2024年3月5日下午3:20". It is table-driven (all characters, context words and the exception lexicon
// are the constants below) and never reorders text: it finds spans and replaces each with its digit form,
// so the same spans can be applied to timed tokens (`itnZhTokens`).
//
// How text is read. A *run* is a maximal sequence of numeral characters (零〇幺一二两三四五六七八九, 十百千,
// 万亿, and 几). A run is converted only if one rule explains ALL of it (possibly with connectors after it
// such as 点/分之/比/块/年); otherwise the whole run is left as written. This alone keeps 一五一十,
// 九九八十一, 三七二十一, 十几个, 几十万, 千万, 百万, 万一 … unchanged. One refinement: a run that is not
// explained but ends in 一 is retried without that 一, which then starts the next word (三千五一个月 →
// 3500一个月).
//
// Rules (checked in this order at each run; one line each, tests in itn-zh.test.ts):
//  * Exception lexicon (KEEP) first: idioms and fixed words are copied unchanged (十全十美, 一点一滴, 十分好…).
//  * Percent  百分之X → X%, 千分之X → X‰ (X: integer, decimal, or range → 30%~40%). 百分之百 is kept.
//  * Negative 负X → -X (not after 欺/辜/胜/抱… where 负 is part of a word, nor right after a numeral).
//  * Fraction X分之Y → Y/X (三分之二 → 2/3).  万分之… is kept (no run starts with 万).
//  * Ratio / score  X比Y → X:Y when both sides are numbers (三比二 → 3:2; 比较 is not touched; not after 第).
//  * Clock    H点M分S秒 → H:MM:SS, H点半 → H:30, H点一刻/三刻 → H:15/H:45, hour not zero-padded.
//             H点M without 分 is a clock only when M is a place-value number (三点二十 → 3:20); 零M needs 分
//             (三点零五分 → 3:05, 三点零五 → 3.05); a single-digit M (三点五分) is a decimal (3.5分) unless a
//             time-of-day word precedes (下午三点五分 → 下午3:05). A bare single-digit hour H点 becomes H点
//             only after a time-of-day word (下午三点 → 下午3点) or before 钟/整 (三点钟 → 3点钟);
//             otherwise 三点/两点/一点 stay ("three points", "a bit").
//  * Decimal  X点DDD → X.DDD (三点一四 → 3.14, 零点五 → 0.5); a trailing 万/亿 is kept (三点五亿 → 3.5亿).
//  * Range    two adjacent digits (or 三五) with a place unit → lo~hi: 三五百 → 300~500, 七八十 → 70~80,
//             十五六 → 15~16, 一万六七 → 16000~17000, 三四万 → 3~4万. A bare single-digit pair (三四个人,
//             两三天) stays Chinese, like any single-digit quantity.
//  * Digit string (read digit by digit, 幺/〇/零 are digits, 两 never is): 3+ digits → digits
//             (幺三八零零一三八零零零 → 13800138000, 二零二四年 → 2024年); 2 digits only before 年 (八五年 →
//             85年, but 三四年/七八年 are "3–4 / 7–8 years" and stay; 一二年/二三年 are years) or 后 (九零后 → 90后).
//  * Money    X块Y → X.Y块 (五块五 → 5.5块), X块Y毛Z → X.YZ块 (三块两毛五 → 3.25块); Y must end the word
//             (一块五花肉 is untouched; a following 一 is allowed: 五块五一斤 → 5.5块一斤). The same for 度:
//             三十六度五 → 36.5度. Other amounts follow the cardinal rule (三百块 → 300块, 三块钱 stays).
//  * Dates    month 1–12 before 月 (三月 → 3月), day 1–31 before 号 (五号 → 5号), or before 日 right after 月
//             (三月五日 → 3月5日). Years: digit strings or cardinals (两千零五年 → 2005年).
//  * Cardinal a place-value number (has 十/百/千/万/亿) → digits (十五 → 15, 一百二十三 → 123, 两千零五 → 2005);
//             colloquial 一万二 = 12000, 三千五 = 3500, 一百五 = 150; "S万/S亿/S万亿" with nothing after the
//             unit keeps the unit (五千万 → 5000万, 十万 → 10万, 三百亿 → 300亿); anything mixed is written
//             out (一亿三千万 → 130000000, 三万五千 → 35000). Leading 一十 is not accepted.
//  * Single digits (一…九, 两, 零) outside the contexts above are never converted: measure words
//             (一个人, 三个苹果, 三块钱), ordinals (第一次 stays, 第二十届 → 第20届), weekdays (星期一), 初一.
//  * Exceptions: see KEEP. 十分 ("very") stays unless 钟/之 follows (十分钟 → 10分钟); 十一 before a
//    holiday word stays; 十四五规划 etc. stay.
//
// Only Simplified forms are handled (萬/億/兩/點 are not): run it before Simplified → Traditional conversion.
import type { TimedToken } from '../pipeline-types';

// ───────────────────────────── Tables ─────────────────────────────

/** Value of every digit character. */
const DIGIT_VALUE: Readonly<Record<string, number>> = {
  零: 0, 〇: 0, 幺: 1, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9,
};
/** Digits of place-value numbers (幺 and 〇 are only read digit by digit; 零 is a filler there). */
const CARDINAL_DIGITS = '一二两三四五六七八九';
/** Digits that may be read one by one (phone numbers, years, ids, decimals). 两 is never read that way. */
const SEQUENCE_DIGITS = '零〇幺一二三四五六七八九';
/** Place units inside a section (below 万). */
const PLACE_VALUE: Readonly<Record<string, number>> = { 十: 10, 百: 100, 千: 1000 };
/** Section units. */
const LEVEL_VALUE: Readonly<Record<string, bigint>> = { 万: 10_000n, 亿: 100_000_000n };
/** 一 starting the next word after a number (三千五一个月): a run may end before it. */
const WORD_START_ONE = '一';
/** Vague-amount marker: a run containing it is never converted (十几个, 几十万). */
const FUZZY = '几';
/** Characters that make up a run of numerals. */
const RUN_CHARS = new Set([...SEQUENCE_DIGITS, '两', ...Object.keys(PLACE_VALUE), ...Object.keys(LEVEL_VALUE), FUZZY]);

/** Words just before a clock time that make a single-digit hour a time (下午三点 → 下午3点). */
const TIME_OF_DAY_WORDS = [
  '凌晨', '清晨', '早上', '早晨', '上午', '中午', '下午', '傍晚', '晚上', '夜里', '夜间', '半夜', '午夜',
  '今早', '明早', '今晚', '明晚', '昨晚', '每晚',
];
/** A clock time right after "<clock>到" also counts as a time (三点二十到五点 → 3:20到5点). */
const CLOCK_CHAIN = '到至';
/** Characters before 负 that make it part of a word, not a minus sign (欺负一下, 胜负). */
const NEGATIVE_BLOCKERS = '欺辜胜抱担背肩自正不身偏负';
/** Units read "X unit Y" = X.Y unit: 五块五 = 5.5块 (money), 三十六度五 = 36.5度 (temperature). */
const TENTHS_UNITS = '块度';
/** Characters that may follow X块Y / X度Y (otherwise 一块五花肉 would be read as 1.5块). */
const MONEY_FOLLOWERS = '钱的了吧啊呢吗呀哦嘛左多';
/** Units after the first fractional money digit (块Y毛 / 块Y角). */
const MONEY_TENTHS = '毛角';

/**
 * Exception lexicon: these are copied unchanged wherever a scan position lands on them. An entry is a
 * phrase, or [phrase, characters that must NOT follow it for the entry to apply].
 * Many entries would stay unchanged anyway (single digits are never converted on their own); they are
 * listed so that a rule change cannot silently break them, and so they delimit runs (周一十点 → 周一10点).
 */
const KEEP: ReadonlyArray<string | readonly [string, string]> = [
  // Idioms and set phrases whose numerals would otherwise be converted.
  '十全十美', '十全大补', '十拿九稳', '十有八九', '十之八九', '八九不离十', '十万火急', '十万八千里', '十恶不赦',
  '十面埋伏', '十八般武艺', '十八罗汉', '十指连心', '十里八乡', '十年磨一剑', '十年寒窗', '三十六计', '三十而立',
  '四十不惑', '五十知天命', '五十而知天命', '五十步笑百步', '七十二变', '七十二行', '三百六十行', '二十四孝',
  '一千零一夜', '七七八八', '九一八事变', '一五一十', '三七二十一', '九九八十一', '九九归一', '双手合十', '合十', '百分之百',
  '一点一滴', '一点一点', '一点半点', '一点儿', '一点点', '一点也', '一点都', '一点东西', '一点事', '三点一线',
  '十字', '十足', ['十分', '钟之'], ['二百五', '零一二两三四五六七八九十百千万亿几块元个'],
  // Plan names and the National Day holiday (十一 alone is the number 11).
  '十一五规划', '十二五规划', '十三五规划', '十四五规划', '十五五规划', '十四五期间', '十四五时期',
  '十一长假', '十一黄金周', '十一假期', '十一期间', '十一放假',
  // Idioms made of single digits (safe by the single-digit rule; kept here as documentation and guards).
  '一心一意', '三心二意', '七上八下', '乱七八糟', '九牛一毛', '一石二鸟', '不管三七二十一', '一清二楚',
  '接二连三', '独一无二', '说一不二', '数一数二', '略知一二', '一分为二', '一干二净', '一模一样', '一丝一毫',
  '一朝一夕', '一草一木', '三三两两', '三言两语', '一举两得', '三番五次', '五湖四海', '四面八方', '七嘴八舌',
  '横七竖八', '九死一生', '一问三不知', '千方百计', '百发百中', '成千上万', '千千万万', '万无一失', '一日千里',
  '千军万马', '一不做二不休', '一言九鼎', '一诺千金', '三长两短',
  // Everyday words built on 一 ("a / one / same").
  '一些', '一样', '一起', '一直', '一定', '一般', '一下', '一会儿', '一会', '一切', '一共', '一向', '一旦',
  '一再', '一边', '一面', '一致', '一律', '一贯', '一番', '一阵', '一口气', '统一', '唯一', '万一', '同一',
  '单一', '专一', '逐一', '划一', '看一看', '想一想', '试一试', '等一等',
  // Weekdays and lunar days stay in words (a number may follow: 周一十点 → 周一10点).
  '星期一', '星期二', '星期三', '星期四', '星期五', '星期六', '礼拜一', '礼拜二', '礼拜三', '礼拜四',
  '礼拜五', '礼拜六', '周一', '周二', '周三', '周四', '周五', '周六',
  '初一', '初二', '初三', '初四', '初五', '初六', '初七', '初八', '初九', '初十',
];

/** Whether c is one of the characters of `set` (false for undefined, i.e. past either end of the text). */
function isOneOf(set: string, c: string | undefined): boolean {
  return c !== undefined && c.length === 1 && set.includes(c);
}

// ───────────────────────────── Lexicon lookup ─────────────────────────────

interface KeepEntry {
  phrase: string;
  unless: string;
}

/** Lexicon entries by first character, longest first. */
const KEEP_BY_FIRST: ReadonlyMap<string, KeepEntry[]> = (() => {
  const map = new Map<string, KeepEntry[]>();
  for (const e of KEEP) {
    const entry = typeof e === 'string' ? { phrase: e, unless: '' } : { phrase: e[0], unless: e[1] };
    const list = map.get(entry.phrase[0]) ?? [];
    if (!list.some((x) => x.phrase === entry.phrase)) list.push(entry);
    map.set(entry.phrase[0], list);
  }
  for (const list of map.values()) list.sort((a, b) => b.phrase.length - a.phrase.length);
  return map;
})();

/** Length of the lexicon entry starting at i (0 when none). */
function keepLength(s: string, i: number): number {
  const list = KEEP_BY_FIRST.get(s[i]);
  if (!list) return 0;
  for (const e of list) {
    if (!s.startsWith(e.phrase, i)) continue;
    const next = s[i + e.phrase.length];
    if (isOneOf(e.unless, next)) continue;
    return e.phrase.length;
  }
  return 0;
}

// ───────────────────────────── Number parsing ─────────────────────────────

function runEnd(s: string, i: number): number {
  while (i < s.length && RUN_CHARS.has(s[i])) i++;
  return i;
}

/** 一…九 except 两: digits that may follow 零 inside a number. */
function isPlainDigit(c: string | undefined): boolean {
  return c !== '两' && isOneOf(CARDINAL_DIGITS, c);
}

interface Parsed {
  value: bigint;
  end: number;
  /** One bare digit, nothing else. */
  single: boolean;
  /** Written form keeping a final 万/亿 ("5000万"), when the number is "S万", "S亿" or "S万亿". */
  levelForm: string | null;
}

/**
 * A section below 万: (digit place)* with strictly falling places, 零 for skipped places, and a final bare
 * digit (after 零 or 十: units; after 百/千 without 零: the next lower place, 三千五 = 3500).
 * A leading 十 is allowed only at the start of the whole number (十五); a leading 一十 is not.
 */
function parseSection(s: string, i: number, end: number, first: boolean): Parsed | null {
  let p = i;
  let value = 0;
  let last = 10_000;
  let any = false;
  let zero = false;
  while (p < end) {
    const c = s[p];
    if (c === '零') {
      if (!any || zero || !isPlainDigit(s[p + 1]) || p + 1 >= end) break;
      zero = true;
      p++;
      continue;
    }
    if (isOneOf(CARDINAL_DIGITS, c)) {
      const d = DIGIT_VALUE[c];
      const u = p + 1 < end ? PLACE_VALUE[s[p + 1]] : undefined;
      if (u !== undefined && u < last) {
        if (c === '两' && u === 10) break; // 两十 is not said
        if (!any && first && c === '一' && u === 10) break; // leading 一十: not accepted
        value += d * u;
        last = u;
        any = true;
        zero = false;
        p += 2;
        continue;
      }
      if (!any) return { value: BigInt(d), end: p + 1, single: true, levelForm: null };
      if (c === '两') break;
      value += zero || last === 10 ? d : d * (last / 10);
      p++;
      break; // a bare digit ends the section
    }
    if (c === '十' && !any && first) {
      value = 10;
      last = 10;
      any = true;
      p++;
      continue;
    }
    break;
  }
  if (!any) return null;
  return { value: BigInt(value), end: p, single: false, levelForm: null };
}

/**
 * `head` followed by a level unit (万 or 亿) at `p - 1`, and an optional lower part: [零] lower.
 * A single bare digit right after the unit (no 零, ending the run) is colloquial for the next place:
 * 一万二 = 12000, 一亿三 = 130000000.
 */
function withTail(
  s: string,
  p: number,
  end: number,
  base: bigint,
  unit: bigint,
  lower: (q: number) => Parsed | null,
): { value: bigint; end: number; tail: boolean } {
  let q = p;
  const zero = q < end && s[q] === '零';
  if (zero) q++;
  const tail = q < end ? lower(q) : null;
  if (!tail) return { value: base, end: p, tail: false };
  const abbreviated = !zero && tail.single && tail.end === end;
  return { value: base + (abbreviated ? (tail.value * unit) / 10n : tail.value), end: tail.end, tail: true };
}

/** A number below 1亿: section [万 [零] section]. */
function parseWan(s: string, i: number, end: number, first: boolean): Parsed | null {
  const head = parseSection(s, i, end, first);
  if (!head || head.end >= end || s[head.end] !== '万') return head;
  const unit = LEVEL_VALUE['万'];
  const t = withTail(s, head.end + 1, end, head.value * unit, unit, (q) => parseSection(s, q, end, false));
  return { value: t.value, end: t.end, single: false, levelForm: t.tail ? null : `${head.value}万` };
}

/** Any number: [below-1亿 亿 [零] below-1亿] | below-1亿. */
function parseYi(s: string, i: number, end: number): Parsed | null {
  const head = parseWan(s, i, end, true);
  if (!head || head.end >= end || s[head.end] !== '亿') return head;
  const unit = LEVEL_VALUE['亿'];
  const t = withTail(s, head.end + 1, end, head.value * unit, unit, (q) => parseWan(s, q, end, false));
  const headText = head.levelForm ?? head.value.toString();
  return { value: t.value, end: t.end, single: false, levelForm: t.tail ? null : `${headText}亿` };
}

interface Cardinal {
  value: bigint;
  /** Contains 十/百/千/万/亿. */
  hasPlace: boolean;
  single: boolean;
  levelForm: string | null;
}

/** A place-value number spanning exactly [i, end), or null. 零/〇 alone are 0. */
function parseCardinal(s: string, i: number, end: number): Cardinal | null {
  if (end - i === 1 && (s[i] === '零' || s[i] === '〇')) return { value: 0n, hasPlace: false, single: true, levelForm: null };
  const n = parseYi(s, i, end);
  if (!n || n.end !== end) return null;
  let hasPlace = false;
  for (let k = i; k < end; k++) if (PLACE_VALUE[s[k]] !== undefined || LEVEL_VALUE[s[k]] !== undefined) hasPlace = true;
  return { value: n.value, hasPlace, single: n.single, levelForm: n.levelForm };
}

function cardinalText(c: Cardinal): string {
  return c.levelForm ?? c.value.toString();
}

/** Digit-by-digit reading of [i, end), or null if a character is not a sequence digit. */
function digitString(s: string, i: number, end: number): string | null {
  let out = '';
  for (let k = i; k < end; k++) {
    if (!isOneOf(SEQUENCE_DIGITS, s[k])) return null;
    out += DIGIT_VALUE[s[k]];
  }
  return out;
}

/** Two digits read as an approximate range (三四, 两三, 一两, 七八; 三五 only without a prefix). */
function isRangePair(a: string, b: string, prefixed: boolean): boolean {
  if (!isOneOf(CARDINAL_DIGITS, a) || !isOneOf(CARDINAL_DIGITS, b)) return false;
  if (a === '两' && b !== '三') return false;
  if (b === '两' && a !== '一') return false;
  if (!prefixed && a === '三' && b === '五') return true;
  return DIGIT_VALUE[b] === DIGIT_VALUE[a] + 1;
}

interface Range {
  lo: bigint;
  hi: bigint;
  /** Kept unit ("万", "亿", "万亿") or "". */
  level: string;
}

const RANGE_SUFFIX = /^([十百千]?)(万亿|万|亿)?$/;

/**
 * [prefix] d1 d2 [place] [level] spanning exactly [i, end): 三五百, 七八十, 十五六, 一百五六十, 一万六七,
 * 三四万, 十五六万. A bare pair (三四) is not a range here: single-digit quantities stay Chinese.
 */
function parseRange(s: string, i: number, end: number): Range | null {
  // The suffix after the pair is at most 3 characters (十万亿), so only the last few positions can hold it.
  for (let k = Math.max(i, end - 5); k + 1 < end; k++) {
    const prefixed = k > i;
    if (!isRangePair(s[k], s[k + 1], prefixed)) continue;
    const m = RANGE_SUFFIX.exec(s.slice(k + 2, end));
    if (!m) continue;
    const place = m[1] ? BigInt(PLACE_VALUE[m[1]]) : 0n;
    const level = m[2] ?? '';
    let base = 0n;
    let step: bigint;
    if (!prefixed) {
      if (!place && !level) continue;
      step = place || 1n;
    } else {
      const p = parseCardinal(s, i, k);
      const lastChar = s[k - 1];
      const lastUnit = PLACE_VALUE[lastChar] !== undefined ? BigInt(PLACE_VALUE[lastChar]) : LEVEL_VALUE[lastChar];
      if (!p || lastUnit === undefined) continue;
      if (level && p.value >= 10_000n) continue; // 一亿五六千万: not handled
      if (place && place >= lastUnit) continue;
      base = p.value;
      step = place || lastUnit / 10n;
    }
    const d1 = BigInt(DIGIT_VALUE[s[k]]);
    const d2 = BigInt(DIGIT_VALUE[s[k + 1]]);
    return { lo: base + d1 * step, hi: base + d2 * step, level };
  }
  return null;
}

interface Expr {
  end: number;
  text: string;
}

/** Integer part 点 fractional digits [万|亿]: 三点一四 → 3.14, 三点五亿 → 3.5亿. `r` is the run end at i. */
function parseDecimal(s: string, i: number, r: number, known?: Cardinal | null): Expr | null {
  if (s[r] !== '点') return null;
  const int = known === undefined ? parseCardinal(s, i, r) : known;
  if (!int || int.levelForm) return null;
  const j = r + 1;
  const r2 = runEnd(s, j);
  if (r2 === j || keepLength(s, j)) return null;
  let k = j;
  let frac = '';
  while (k < r2 && isOneOf(SEQUENCE_DIGITS, s[k]) && s[k] !== '幺') frac += DIGIT_VALUE[s[k++]];
  if (!frac) return null;
  const level = s.slice(k, r2);
  if (level !== '' && level !== '万' && level !== '亿' && level !== '万亿') return null;
  return { end: r2, text: `${int.value}.${frac}${level}` };
}

/** A decimal or a whole-run cardinal starting at i (single digits included). */
function parseNumber(s: string, i: number): Expr | null {
  const r = runEnd(s, i);
  if (r === i) return null;
  const d = parseDecimal(s, i, r);
  if (d) return d;
  const c = parseCardinal(s, i, r);
  return c ? { end: r, text: cardinalText(c) } : null;
}

// ───────────────────────────── Rules ─────────────────────────────

interface Match extends Expr {
  clock?: boolean;
}

/** 百分之X → X%, 千分之X → X‰ (i at 百/千). */
function matchPercent(s: string, i: number): Match | null {
  const sign = s[i] === '百' ? '%' : '‰';
  const j = i + 3;
  const r = runEnd(s, j);
  if (r === j || keepLength(s, j)) return null;
  const range = parseRange(s, j, r);
  if (range && !range.level) return { end: r, text: `${range.lo}${sign}~${range.hi}${sign}` };
  const x = parseNumber(s, j);
  return x ? { end: x.end, text: `${x.text}${sign}` } : null;
}

/** 负X → -X (i at 负). */
function matchNegative(s: string, i: number): Match | null {
  const before = s[i - 1];
  if (before !== undefined && (isOneOf(NEGATIVE_BLOCKERS, before) || RUN_CHARS.has(before) || /[0-9%‰]/.test(before))) return null;
  if (keepLength(s, i + 1)) return null;
  const x = parseNumber(s, i + 1);
  return x ? { end: x.end, text: `-${x.text}` } : null;
}

/** X分之Y → Y/X. */
function matchFraction(s: string, r: number, x: Cardinal | null): Match | null {
  if (!s.startsWith('分之', r)) return null;
  if (!x || x.value === 0n || keepLength(s, r + 2)) return null;
  const y = parseNumber(s, r + 2);
  return y ? { end: y.end, text: `${y.text}/${x.value}` } : null;
}

/** X比Y → X:Y (scores, ratios). */
function matchRatio(s: string, i: number, r: number, run: Cardinal | null): Match | null {
  if ((s[r] !== '比' && s[r] !== '点') || s[i - 1] === '第') return null;
  const x = parseDecimal(s, i, r, run) ?? (run ? { end: r, text: cardinalText(run) } : null);
  if (!x || s[x.end] !== '比' || keepLength(s, x.end + 1)) return null;
  const y = parseNumber(s, x.end + 1);
  return y ? { end: y.end, text: `${x.text}:${y.text}` } : null;
}

/** Minutes/seconds after 点/分: 零五 ('zero'), 五 ('digit'), 二十 ('place'); 0–59. */
function parseClockPart(s: string, p: number, r: number): { value: number; kind: 'zero' | 'digit' | 'place' } | null {
  if (r - p === 2 && s[p] === '零' && isPlainDigit(s[p + 1])) return { value: DIGIT_VALUE[s[p + 1]], kind: 'zero' };
  const c = parseCardinal(s, p, r);
  if (!c || c.levelForm || c.value > 59n) return null;
  return { value: Number(c.value), kind: c.hasPlace ? 'place' : 'digit' };
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** Clock times at a run that is an hour followed by 点. `timeContext`: a time-of-day word precedes. */
function matchClock(s: string, r: number, hour: Cardinal | null, timeContext: () => boolean): Match | null {
  if (s[r] !== '点') return null;
  if (!hour || hour.levelForm || hour.value > 24n) return null;
  const h = hour.value.toString();
  const p = r + 1;
  if (s[p] === '半') return { end: p + 1, text: `${h}:30`, clock: true };
  if ((s[p] === '一' || s[p] === '三') && s[p + 1] === '刻') {
    return { end: p + 2, text: `${h}:${s[p] === '一' ? '15' : '45'}`, clock: true };
  }
  const r2 = runEnd(s, p);
  const m = r2 > p ? parseClockPart(s, p, r2) : null;
  if (m) {
    const hasFen = s[r2] === '分';
    if (!(m.kind === 'place' || (m.kind === 'zero' && hasFen) || timeContext())) return null;
    let text = `${h}:${pad2(m.value)}`;
    let end = hasFen ? r2 + 1 : r2;
    if (hasFen) {
      const r3 = runEnd(s, end);
      if (r3 > end && s[r3] === '秒') {
        const sec = parseClockPart(s, end, r3);
        if (sec) {
          text += `:${pad2(sec.value)}`;
          end = r3 + 1;
        }
      }
    }
    return { end, text, clock: true };
  }
  // A bare hour (also when what follows is not minutes: 下午两点百分之百 → 下午2点百分之百).
  if (s[p] === '钟' || s[p] === '整' || timeContext()) return { end: p, text: `${h}点`, clock: true };
  return null;
}

/** X块Y → X.Y块, X块Y毛[Z[分]] → X.YZ块; X度Y → X.Y度 (三十六度五 → 36.5度). */
function matchUnitTenths(s: string, r: number, x: Cardinal | null): Match | null {
  const unit = s[r];
  if (!isOneOf(TENTHS_UNITS, unit)) return null;
  if (!x || x.levelForm) return null;
  const p = r + 1;
  const y = s[p];
  if (!isOneOf(CARDINAL_DIGITS, y)) return null;
  // Y is one digit; a lone 一 after it starts the next word (五块五一斤).
  if (RUN_CHARS.has(s[p + 1] ?? '') && !(s[p + 1] === WORD_START_ONE && !RUN_CHARS.has(s[p + 2] ?? ''))) return null;
  let q = p + 1;
  if (unit === '块' && isOneOf(MONEY_TENTHS, s[q])) {
    q++;
    let frac = String(DIGIT_VALUE[y]);
    const z = s[q];
    if (isPlainDigit(z) && !RUN_CHARS.has(s[q + 1] ?? '')) {
      frac += DIGIT_VALUE[z];
      q++;
      if (s[q] === '分') q++;
    }
    return { end: q, text: `${x.value}.${frac}${unit}` };
  }
  if (y === '两') return null;
  const next = s[q];
  if (next !== undefined && next !== WORD_START_ONE && !isOneOf(MONEY_FOLLOWERS, next) && /[\p{L}\p{N}]/u.test(next)) return null;
  return { end: q, text: `${x.value}.${DIGIT_VALUE[y]}${unit}` };
}

/** Digit strings: 3+ digits anywhere; 2 digits before 年 (years, unless a range like 三四年) or 后 (九零后). */
function matchDigitString(s: string, i: number, r: number): Match | null {
  const digits = digitString(s, i, r);
  if (digits === null || digits.length < 2) return null;
  if (digits.length >= 3) return { end: r, text: digits };
  const next = s[r];
  if (next === '后') return { end: r, text: digits };
  const isRange = isRangePair(s[i], s[i + 1], false) && DIGIT_VALUE[s[i]] >= 3;
  if (next === '年' && !isRange && s[r + 1] !== '级') return { end: r, text: digits }; // 一二年级: grades 1–2
  return null;
}

/** Months (三月), days (五号, 月五日): single digits converted in date context. */
function matchDate(s: string, i: number, r: number, c: Cardinal | null): Match | null {
  const next = s[r];
  if (next !== '月' && next !== '号' && next !== '日') return null;
  if (s[i] === '两' || s[i] === '零' || s[i] === '〇') return null;
  if (!c || c.levelForm || c.value < 1n) return null;
  const v = Number(c.value);
  const ok = next === '月' ? v <= 12 : v <= 31 && (next === '号' || s[i - 1] === '月');
  return ok ? { end: r, text: String(v) } : null;
}

/** Place-value numbers (value ≥ 10 or with 万/亿). */
function matchCardinal(r: number, c: Cardinal | null): Match | null {
  return c && c.hasPlace ? { end: r, text: cardinalText(c) } : null;
}

/** The rules that start at a run [i, r), in priority order. */
function matchRun(s: string, i: number, r: number, timeContext: () => boolean): Match | null {
  for (let k = i; k < r; k++) if (s[k] === FUZZY) return null;
  const run = parseCardinal(s, i, r); // the whole run as one number (null if it is not one)
  return (
    matchFraction(s, r, run) ??
    matchRatio(s, i, r, run) ??
    matchClock(s, r, run, timeContext) ??
    parseDecimal(s, i, r, run) ??
    matchRange(s, i, r) ??
    matchDigitString(s, i, r) ??
    matchUnitTenths(s, r, run) ??
    matchDate(s, i, r, run) ??
    matchCardinal(r, run)
  );
}

function matchRange(s: string, i: number, r: number): Match | null {
  const range = parseRange(s, i, r);
  return range ? { end: r, text: `${range.lo}~${range.hi}${range.level}` } : null;
}

// ───────────────────────────── Scanner ─────────────────────────────

interface Span {
  start: number;
  end: number;
  text: string;
}

/** Replacements for `s`, in order, non-overlapping. */
function findSpans(s: string): Span[] {
  const spans: Span[] = [];
  const n = s.length;
  let lastClockEnd = -1;
  const timeContext = (i: number): boolean =>
    TIME_OF_DAY_WORDS.some((w) => s.startsWith(w, i - w.length)) ||
    (isOneOf(CLOCK_CHAIN, s[i - 1]) && lastClockEnd === i - 1);
  let i = 0;
  while (i < n) {
    const keep = keepLength(s, i);
    if (keep) {
      i += keep;
      continue;
    }
    const c = s[i];
    let m: Match | null = null;
    if (c === '负') m = matchNegative(s, i);
    else if ((c === '百' || c === '千') && s.startsWith('分之', i + 1)) m = matchPercent(s, i);
    if (!m && RUN_CHARS.has(c)) {
      const r = runEnd(s, i);
      const ctx = (): boolean => timeContext(i);
      m = matchRun(s, i, r, ctx);
      // A final 一 may start the next word (三千五一个月, 二十一起 is already a whole number): retry without it.
      if (!m && r - i > 1 && s[r - 1] === WORD_START_ONE) m = matchRun(s, i, r - 1, ctx);
      if (!m) {
        i = r; // a run no rule explains is left whole
        continue;
      }
    }
    if (m) {
      spans.push({ start: i, end: m.end, text: m.text });
      if (m.clock) lastClockEnd = m.end;
      i = m.end;
      continue;
    }
    i++;
  }
  return spans;
}

// ───────────────────────────── API ─────────────────────────────

/** Spoken Chinese numbers → digits (Simplified Chinese); other text passes through unchanged. */
export function itnZh(text: string): string {
  const spans = findSpans(text);
  if (spans.length === 0) return text;
  let out = '';
  let pos = 0;
  for (const sp of spans) {
    out += text.slice(pos, sp.start) + sp.text;
    pos = sp.end;
  }
  return out + text.slice(pos);
}

/**
 * Same conversion on timed tokens: a replaced span becomes ONE token whose start is the start of the first
 * replaced token and whose end is the end of the last; untouched tokens keep their times and identity.
 * Tokens may hold more than one character (then a conversion that starts or ends inside a token takes the
 * whole token).
 */
export function itnZhTokens(tokens: TimedToken[]): TimedToken[] {
  const text = tokens.map((t) => t.text).join('');
  const spans = findSpans(text);
  if (spans.length === 0) return tokens.slice();
  const starts: number[] = new Array(tokens.length);
  let off = 0;
  for (let k = 0; k < tokens.length; k++) {
    starts[k] = off;
    off += tokens[k].text.length;
  }
  const out: TimedToken[] = [];
  let si = 0;
  let k = 0;
  while (k < tokens.length) {
    const tokStart = starts[k];
    const tokEnd = tokStart + tokens[k].text.length;
    if (si >= spans.length || spans[si].start >= tokEnd) {
      out.push(tokens[k]);
      k++;
      continue;
    }
    // A group of tokens [k, last] covering one or more spans.
    const first = k;
    let groupEnd = tokEnd;
    let last = k;
    let newText = '';
    let pos = tokStart;
    while (si < spans.length && spans[si].start < groupEnd) {
      const sp = spans[si++];
      while (groupEnd < sp.end) groupEnd = starts[++last] + tokens[last].text.length;
      newText += text.slice(pos, sp.start) + sp.text;
      pos = sp.end;
    }
    newText += text.slice(pos, groupEnd);
    out.push({ text: newText, start: tokens[first].start, end: tokens[last].end });
    k = last + 1;
  }
  return out;
}
