// Display helpers: shortened hashes, times, JSON values, links to explorer pages.

import { h } from "./dom.js";
import { currentLang } from "./i18n.js";
import { stringifyJson } from "./verify/jsonvalue.js";

export function short(hex, n = 10) {
  if (typeof hex !== "string" || hex.length <= n * 2) return hex ?? "";
  return `${hex.slice(0, n)}…${hex.slice(-6)}`;
}

export function time(ms) {
  if (typeof ms !== "number" && typeof ms !== "bigint") return "";
  return new Date(Number(ms)).toLocaleString(currentLang(), { hour12: false });
}

export function json(value) {
  return h("pre", { class: "json" }, stringifyJson(value, 2));
}

export function hash(hex) {
  return h("code", { class: "hash", title: hex }, hex);
}

export function link(href, text, attrs = {}) {
  return h("a", { href, ...attrs }, text);
}

export const to = {
  block: (height) => `#/block/${height}`,
  tx: (id) => `#/tx/${id}`,
  state: (contract, key) => `#/state?contract=${encodeURIComponent(contract)}&key=${encodeURIComponent(key)}`,
  config: (height) => `#/config?height=${height}`,
};

export function blockLink(height) {
  return link(to.block(height), String(height));
}

export function txLink(id, n = 10) {
  return link(to.tx(id), h("code", { class: "hash", title: id }, short(id, n)));
}
