// The UI's translations: the current language (a rune, so every `t(...)` in a template updates when it
// changes), chosen from the browser's languages on the first visit and remembered in localStorage.
//
//   t('export.title')                       → "Export" / "匯出" / "导出"
//   t('queue.count', { count: 3 })          → "3 files" (plural forms by `count`)
import { en, type MessageKey } from './en';
import { LOCALES, isLocale, matchLocale, render, type Locale, type Message, type Params } from './format';
import { zhCN } from './zh-CN';
import { zhTW } from './zh-TW';

export { LOCALES, LOCALE_NAMES, type Locale } from './format';
export type { MessageKey } from './en';

const TABLES: Record<Locale, Record<MessageKey, Message>> = { en, 'zh-TW': zhTW, 'zh-CN': zhCN };

const STORAGE_KEY = 'locale';

class I18n {
  locale = $state<Locale>('en');

  /** Reads the saved choice, else the browser's languages. */
  init(): void {
    let saved: string | null = null;
    try {
      saved = localStorage.getItem(STORAGE_KEY);
    } catch {
      /* storage blocked */
    }
    const nav = typeof navigator === 'undefined' ? [] : navigator.languages?.length ? navigator.languages : [navigator.language];
    this.set(isLocale(saved) ? saved : matchLocale(nav ?? []), false);
  }

  set(locale: Locale, save = true): void {
    this.locale = locale;
    if (typeof document !== 'undefined') document.documentElement.lang = locale;
    if (!save) return;
    try {
      localStorage.setItem(STORAGE_KEY, locale);
    } catch {
      /* storage blocked: the choice lasts for this visit */
    }
  }
}

export const i18n = new I18n();

/** The message `key` in the current language, with its {placeholders} filled. */
export function t(key: MessageKey, params?: Params): string {
  return render(TABLES[i18n.locale][key] ?? en[key], params);
}

/** Every locale, for the picker. */
export const locales: readonly Locale[] = LOCALES;
