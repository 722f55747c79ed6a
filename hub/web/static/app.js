// Shared by every page: the API client (with the CSRF token) and small formatters.
"use strict";

const Seed = {
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

  number(value, digits = 0) {
    return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
  },

  percent(value) {
    return value === null || value === undefined ? "–" : `${Math.round(value * 100)} %`;
  },

  when(iso) {
    return iso ? new Date(iso).toLocaleString() : "never";
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

document.addEventListener("DOMContentLoaded", () => Seed.menu());
