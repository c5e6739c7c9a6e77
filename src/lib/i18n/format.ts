// The plain part of the UI's translations (no runes, testable in Node): the locales, choosing one from
// the browser's languages, and filling a message's {placeholders}.

export const LOCALES = ['en', 'zh-TW', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];

/** Each language named in itself (what the language picker shows). */
export const LOCALE_NAMES: Record<Locale, string> = {
  en: 'English',
  'zh-TW': '繁體中文',
  'zh-CN': '简体中文',
};

/** A message: text with {name} placeholders, or plural forms chosen by the `count` parameter. */
export type Message = string | { one: string; other: string };
export type Params = Record<string, string | number>;

export function isLocale(x: unknown): x is Locale {
  return typeof x === 'string' && (LOCALES as readonly string[]).includes(x);
}

/**
 * The UI language for the browser's preferred languages (`navigator.languages`): Chinese written in
 * Traditional characters (zh-TW, zh-HK, zh-MO, zh-Hant…) → zh-TW, any other Chinese → zh-CN, English or
 * anything else → en. The first tag that names one of ours wins.
 */
export function matchLocale(tags: readonly string[]): Locale {
  for (const raw of tags) {
    const tag = raw.toLowerCase().replace(/_/g, '-');
    if (tag === 'zh' || tag.startsWith('zh-')) {
      if (/(^|-)hant($|-)/.test(tag) || /^zh-(tw|hk|mo)($|-)/.test(tag)) return 'zh-TW';
      return 'zh-CN';
    }
    if (tag === 'en' || tag.startsWith('en-')) return 'en';
  }
  return 'en';
}

/** Fills {name} placeholders; an unknown placeholder stays as written (a visible bug, not a crash). */
export function interpolate(template: string, params?: Params): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (all, name: string) => (name in params ? String(params[name]) : all));
}

/** The text of a message for `params` (plural forms: `one` when params.count is 1). */
export function render(message: Message, params?: Params): string {
  if (typeof message === 'string') return interpolate(message, params);
  const form = params?.count === 1 ? message.one : message.other;
  return interpolate(form, params);
}

/** The placeholders a message uses (every form), sorted: translations must use the same ones. */
export function placeholders(message: Message): string[] {
  const forms = typeof message === 'string' ? [message] : [message.one, message.other];
  const names = new Set<string>();
  for (const f of forms) for (const m of f.matchAll(/\{(\w+)\}/g)) names.add(m[1]);
  return [...names].sort();
}
