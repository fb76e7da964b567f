// Texts in two languages: every string the explorer shows comes from a message table
// (messages/zh-CN.js first, messages/en.js), looked up by key with {name} placeholders.
// The choice is kept in localStorage; changing it re-renders the page and every element
// marked data-i18n (its text) or data-i18n-attr ("attr:key;attr:key").

import en from "./messages/en.js";
import zhCN from "./messages/zh-CN.js";

export const LANGS = { "zh-CN": zhCN, en };
const STORAGE_KEY = "yulian.explorer.lang";
const listeners = new Set();

let lang = (() => {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved && LANGS[saved]) return saved;
  } catch {
    /* storage may be unavailable (privacy mode): the default applies */
  }
  return "zh-CN";
})();

export function currentLang() {
  return lang;
}

export function t(key, params = {}) {
  const text = LANGS[lang][key] ?? LANGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

export function applyStatic(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of el.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":");
      el.setAttribute(attr, t(key));
    }
  }
}

export function setLang(next) {
  if (!LANGS[next] || next === lang) return;
  lang = next;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    /* not kept across visits, still switched */
  }
  applyStatic();
  for (const fn of listeners) fn(lang);
}

export function onLangChange(fn) {
  listeners.add(fn);
}
