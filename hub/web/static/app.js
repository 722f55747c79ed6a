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
};
