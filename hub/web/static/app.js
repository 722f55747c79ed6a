// Shared by every page: the API client (with the CSRF token), the page's words in its
// language, and formatters for numbers and dates that follow that language.
"use strict";

const Seed = {
  // The page's language (a BCP 47 tag on <html lang>), as Intl formatters take it.
  lang() {
    return document.documentElement.lang || "en";
  },

  // The scripts' words in the page's language, from the JSON the template writes (only the
  // texts that differ from the English): Seed.t("%(count)s answered", { count: "12" }).
  // A text is marked with Seed.t("…") on a plain string literal so that
  // `python -m hub.web.messages` finds it; the values are formatted by the caller. As in the
  // templates (Python's format), a percent sign is written %%.
  messages: null,

  t(text, values = {}) {
    if (Seed.messages === null) {
      const block = document.getElementById("seed-messages");
      Seed.messages = block ? JSON.parse(block.textContent) : {};
    }
    const translated = Seed.messages[text] || text;
    return translated.replace(/%\((\w+)\)s|%%/g, (found, name) => (name ? String(values[name] ?? "") : "%"));
  },

  formatters: new Map(),

  format(options) {
    const key = JSON.stringify(options);
    if (!Seed.formatters.has(key)) {
      const Kind = "dateStyle" in options || "month" in options || "weekday" in options || "hour" in options
        ? Intl.DateTimeFormat : Intl.NumberFormat;
      Seed.formatters.set(key, new Kind(Seed.lang(), options));
    }
    return Seed.formatters.get(key);
  },
  csrf() {
    return document.querySelector('meta[name="csrf-token"]').content;
  },

  async get(path) {
    const response = await fetch(path, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    return response.json();
  },

  async post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": Seed.csrf() },
      body: JSON.stringify(body ?? {}),
    });
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    return response.json();
  },

  el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes)) {
      if (value !== null && value !== undefined) node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) {
        node.append(child instanceof Node ? child : document.createTextNode(String(child)));
      }
    }
    return node;
  },

  // Ask in `box` before a step that cannot be undone: the question takes the focus; "no"
  // clears the box and gives the focus back to `opener`, "yes" clears it and runs `onYes`.
  confirm(box, { id, title, detail, yes, no, opener, onYes }) {
    const question = Seed.el("p", { id, tabindex: "-1" }, Seed.el("strong", {}, title), " ", detail);
    const yesButton = Seed.el("button", { type: "button", class: "danger" }, yes);
    const noButton = Seed.el("button", { type: "button", class: "secondary" }, no);
    box.replaceChildren(Seed.el("div", { class: "confirm", role: "group", "aria-labelledby": id },
      question, Seed.el("div", { class: "actions" }, yesButton, noButton)));
    noButton.addEventListener("click", () => {
      box.replaceChildren();
      opener.focus();
    });
    yesButton.addEventListener("click", () => {
      box.replaceChildren();
      onYes();
    });
    question.focus();
  },

  // 1234.5 -> "1,234.5" in English, "1.234,5" in Dutch, "۱٬۲۳۴٫۵" in Persian.
  number(value, digits = 0) {
    if (value === null || value === undefined || Number.isNaN(Number(value))) return "–";
    return Seed.format({ minimumFractionDigits: digits, maximumFractionDigits: digits }).format(Number(value));
  },

  // A number with its sign, for changes: "+3", "−2".
  signed(value, digits = 0) {
    if (value === null || value === undefined) return "–";
    return Seed.format({ signDisplay: "exceptZero", minimumFractionDigits: digits, maximumFractionDigits: digits })
      .format(Number(value));
  },

  // A share (0.48) as the language writes a percentage: "48%", "48 %", "٪۴۸".
  percent(value) {
    if (value === null || value === undefined || Number.isNaN(Number(value))) return "–";
    return Seed.format({ style: "percent", maximumFractionDigits: 0 }).format(Number(value));
  },

  // An interval of shares: "41%–55%".
  interval(pair) {
    return Array.isArray(pair) && pair.length === 2 ? `${Seed.percent(pair[0])}–${Seed.percent(pair[1])}` : "";
  },

  // A moment, in the reader's time zone and the page's language (and its calendar).
  when(iso) {
    return iso ? Seed.format({ dateStyle: "medium", timeStyle: "short" }).format(new Date(iso)) : Seed.t("never");
  },

  // A day, without the time: "1 Dec 2026".
  day(iso, options = { dateStyle: "medium" }) {
    return iso ? Seed.format(options).format(new Date(iso)) : "–";
  },

  // What the templates write for app.js to format: <data class="number" value data-digits>
  // and <time class="moment" datetime> (the `number` and `when` filters).
  localize(root = document) {
    for (const node of root.querySelectorAll("data.number")) {
      node.textContent = Seed.number(node.value, Number(node.dataset.digits || 0));
    }
    for (const node of root.querySelectorAll("time.moment")) {
      node.textContent = Seed.when(node.getAttribute("datetime"));
    }
  },

  query() {
    return new URLSearchParams(window.location.search);
  },

  // A text the hub may send as a string or as {language: text}: the page's language, else
  // English, else the first.
  text(value) {
    if (value === null || value === undefined) return "";
    if (typeof value !== "object") return String(value);
    const lang = document.documentElement.lang || "en";
    return value[lang] ?? value.en ?? Object.values(value)[0] ?? "";
  },

  // The Happy Index as a chip in its colour on the red-to-green scale: 11 bands of ten
  // points, .hi-0 … .hi-10 in style.css (the same colours as charts.js's SCALE).
  index(value, extra = "") {
    const known = value !== null && value !== undefined;
    const band = known ? `hi-${Math.max(0, Math.min(10, Math.round(Number(value) / 10)))}` : "hi-none";
    return Seed.el("span", { class: `hi ${band} ${extra}`.trim() }, Seed.number(value));
  },

  // The menu button that folds the navigation away on a phone.
  menu() {
    const toggle = document.querySelector(".menu-toggle");
    if (!toggle) return;
    const header = toggle.closest("header");
    const close = () => {
      header.classList.remove("open");
      toggle.setAttribute("aria-expanded", "false");
    };
    toggle.addEventListener("click", () => {
      const open = !header.classList.contains("open");
      header.classList.toggle("open", open);
      toggle.setAttribute("aria-expanded", String(open));
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && header.classList.contains("open")) {
        close();
        toggle.focus();
      }
    });
    document.addEventListener("click", (event) => {
      if (!header.contains(event.target)) close();
    });
  },
};

document.addEventListener("DOMContentLoaded", () => {
  Seed.menu();
  Seed.localize();
});
