// Building DOM nodes without HTML strings: h(tag, attributes, ...children). Text children
// become text nodes, so nothing the chain holds is ever parsed as markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** A table with a caption and column headers (scope=col); ``rows`` are arrays of cells. */
export function table(caption, headers, rows, attrs = {}) {
  return h(
    "div",
    { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
    h(
      "table",
      attrs,
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, headers.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c))))),
    ),
  );
}

/** A definition list of [term, description] pairs. */
export function fields(pairs) {
  return h("dl", { class: "fields" }, pairs.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

export function section(title, ...children) {
  const id = `s-${title.replace(/[^\p{L}\p{N}]+/gu, "-")}`;
  return h("section", { "aria-labelledby": id }, h("h2", { id }, title), ...children);
}
