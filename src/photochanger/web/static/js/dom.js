// Building elements without innerHTML: every text goes in as a text node, so a
// slot named `<img src=x onerror=alert(1)>` shows as those characters.

/**
 * h("a", {href: "/", class: "nav", onclick: fn, "aria-label": "…"}, "text", child)
 * Keys: `class`, `text`, `on<event>`, `dataset` (object), `style`... no: no inline
 * styles (the CSP allows none); boolean props (`disabled`, `checked`, `hidden`…)
 * are set as properties; everything else as an attribute.
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") element.className = value;
    else if (key === "text") element.textContent = value;
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      element.addEventListener(key.slice(2), value);
    } else if (key in PROPERTIES) element[PROPERTIES[key]] = value;
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

const PROPERTIES = {
  checked: "checked", disabled: "disabled", hidden: "hidden", value: "value",
  selected: "selected", required: "required", multiple: "multiple", readOnly: "readOnly",
};

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replace an element's children. */
export function fill(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

let idCounter = 0;
/** A page-unique id for label/for and aria-describedby pairs. */
export function uid(prefix = "f") {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** Copy text to the clipboard; falls back to selecting an input for old browsers. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h("textarea", { class: "offscreen", "aria-hidden": "true" });
    area.value = text;
    document.body.append(area);
    area.select();
    const done = document.execCommand("copy");
    area.remove();
    return done;
  }
}
