"use strict";
// Sends each step of the phone survey by fetch, so that a step the network loses is sent
// again, with the same ticket (the hub stores it once), until it gets through. Without this
// script the forms post as they are.

const RETRY_MS = [1000, 2000, 4000, 8000, 15000];

function say(status, key) {
  status.textContent = key ? status.dataset[key] : "";
}

async function send(form, body, status) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      const response = await fetch(form.action, { method: "POST", body, credentials: "same-origin" });
      if (response.status === 429 || response.status === 503) {
        throw new Error("busy");
      }
      window.location.assign(response.url);
      return;
    } catch (error) {
      say(status, "offline");
      const wait = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)];
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, wait);
        window.addEventListener("online", () => { clearTimeout(timer); resolve(); }, { once: true });
      });
    }
  }
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !window.fetch) return;
  event.preventDefault();
  if (form.dataset.busy) return; // a second tap sends nothing more
  form.dataset.busy = "1";
  const body = new URLSearchParams(new FormData(form, event.submitter)); // before disabling it
  const status = document.querySelector(".sending");
  say(status, "sending");
  form.querySelectorAll("button").forEach((button) => { button.disabled = true; });
  if (event.submitter) event.submitter.classList.add("chosen"); // which answer is on its way
  send(form, body, status);
});

window.addEventListener("pageshow", (event) => {
  if (!event.persisted) return; // back from the next step: the page is live again
  document.querySelectorAll("form").forEach((form) => {
    delete form.dataset.busy;
    form.querySelectorAll("button").forEach((button) => {
      button.disabled = false;
      button.classList.remove("chosen");
    });
  });
});
