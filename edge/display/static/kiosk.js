"use strict";
// The kiosk page: the question and four smileys at rest; after a press (a button on the
// kiosk or a smiley here) the follow-up for a while, then thanks, then rest. Every press
// reaches the page as a "prompt" event from the kiosk, whichever way it was pressed. Above
// it all, a line for each task the hub says is being handled here ("Cleaning T2 requested
// at 10:42"), in the place's time; a notice that cannot be shown leaves the smileys be.
// While the camera is on, the topmost line says so on every screen: what it reads, when,
// that no image is kept or sent, and who runs it.

const BUTTONS = [
  ["very_happy", "Very happy", "M30 62 Q50 84 70 62"],
  ["happy", "Happy", "M32 64 Q50 76 68 64"],
  ["unhappy", "Unhappy", "M32 72 Q50 62 68 72"],
  ["very_unhappy", "Very unhappy", "M30 76 Q50 56 70 76"],
];
const THANKS_MS = 3000;
const NOTICES = {
  requested: "%(team)s requested at %(time)s",
  on_the_way: "%(team)s on the way since %(time)s",
};
const SVG = "http://www.w3.org/2000/svg";
const CAMERA = {
  on: "Camera on: this kiosk reads your facial expression when you press a button. No image is stored or sent.",
  operator: "Run by %(operator)s",
};

const page = { state: null, lang: null, timers: [], prompt: null };

function $(id) { return document.getElementById(id); }

function words(msgid, values) {
  const table = page.state.words[page.lang] || {};
  let text = table[msgid] || msgid;
  for (const [name, value] of Object.entries(values || {})) {
    text = text.replace(`%(${name})s`, value);
  }
  return text;
}

function surveyText(texts) {
  const fallback = page.state.languages[0].tag;
  return texts[page.lang] || texts[fallback] || Object.values(texts)[0] || "";
}

function number(value) {
  return new Intl.NumberFormat(page.lang).format(value);
}

function post(path, body) {
  return fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  }).catch(() => undefined); // the kiosk records presses whatever happens here
}

function clearTimers() {
  page.timers.forEach((timer) => clearTimeout(timer));
  page.timers = [];
}

function show(screen) {
  for (const id of ["rest", "followup", "thanks"]) {
    $(id).hidden = id !== screen;
  }
}

function drawing(parts) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 100 100");
  svg.setAttribute("aria-hidden", "true");
  for (const [tag, attributes] of parts) {
    const shape = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes)) shape.setAttribute(name, value);
    svg.appendChild(shape);
  }
  return svg;
}

function face(path) {
  return drawing([
    ["circle", { cx: 50, cy: 50, r: 44, fill: "none", stroke: "currentColor", "stroke-width": 7 }],
    ["circle", { cx: 35, cy: 40, r: 6, fill: "currentColor" }],
    ["circle", { cx: 65, cy: 40, r: 6, fill: "currentColor" }],
    ["path", { d: path, fill: "none", stroke: "currentColor", "stroke-width": 7, "stroke-linecap": "round" }],
  ]);
}

function cameraIcon() {
  return drawing([
    ["rect", { x: 8, y: 28, width: 84, height: 58, rx: 10, fill: "none", stroke: "currentColor", "stroke-width": 7 }],
    ["path", { d: "M34 28 L40 16 H60 L66 28", fill: "none", stroke: "currentColor", "stroke-width": 7, "stroke-linejoin": "round" }],
    ["circle", { cx: 50, cy: 57, r: 16, fill: "none", stroke: "currentColor", "stroke-width": 7 }],
  ]);
}

function renderLanguages() {
  const nav = $("languages");
  nav.replaceChildren();
  nav.setAttribute("aria-label", words("Language"));
  nav.hidden = page.state.languages.length < 2;
  for (const language of page.state.languages) {
    const button = document.createElement("button");
    button.type = "button";
    button.lang = language.tag;
    button.textContent = language.name;
    button.setAttribute("aria-pressed", String(language.tag === page.lang));
    button.addEventListener("click", () => { page.lang = language.tag; render(); });
    nav.appendChild(button);
  }
}

function renderRest() {
  const survey = page.state.survey;
  $("question").textContent = survey ? surveyText(survey.question) : words("How was your experience today?");
  $("hint").textContent = words("Press a smiley");
  const row = $("smileys");
  row.replaceChildren();
  for (const [button, label, mouth] of BUTTONS) {
    const element = document.createElement("button");
    element.type = "button";
    element.className = "smiley";
    element.dataset.button = button;
    element.appendChild(face(mouth));
    const caption = document.createElement("span");
    caption.textContent = words(label);
    element.appendChild(caption);
    element.addEventListener("click", () => post("/api/press", { button }));
    row.appendChild(element);
  }
}

function phrase(msgid, values) {
  // the words with each value isolated in a <bdi>: a Latin team name keeps its order in Persian
  const line = document.createElement("p");
  for (const part of words(msgid).split(/(%\(\w+\)s)/)) {
    const name = /^%\((\w+)\)s$/.exec(part);
    if (name && name[1] in values) {
      const value = document.createElement("bdi");
      value.textContent = values[name[1]];
      line.appendChild(value);
    } else if (part) {
      line.appendChild(document.createTextNode(part));
    }
  }
  return line;
}

function clockTime(notice) {
  const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  const since = new Date(notice.since);
  try {
    return new Intl.DateTimeFormat(page.lang, { ...options, timeZone: notice.time_zone }).format(since);
  } catch (error) {
    return new Intl.DateTimeFormat(page.lang, options).format(since); // a zone unknown here
  }
}

function renderNotices() {
  const box = $("notices");
  const notices = (page.state.notices || []).filter((notice) => NOTICES[notice.kind]);
  const shown = JSON.stringify([page.lang, notices]);
  if (box.dataset.shown === shown) return; // the same words: not announced again
  box.dataset.shown = shown;
  box.replaceChildren(
    ...notices.map((notice) => phrase(NOTICES[notice.kind], { team: notice.team, time: clockTime(notice) })),
  );
}

function renderCamera() {
  const box = $("camera-notice");
  const camera = page.state.camera;
  box.hidden = !camera;
  if (!camera) {
    box.replaceChildren();
    return;
  }
  const text = document.createElement("div");
  const reads = document.createElement("p");
  reads.dir = "auto"; // English on a Persian page until translated: its full stop stays put
  reads.textContent = words(CAMERA.on);
  text.appendChild(reads);
  if (camera.operator) {
    const runBy = phrase(CAMERA.operator, { operator: camera.operator });
    runBy.className = "operator";
    text.appendChild(runBy);
  }
  box.replaceChildren(cameraIcon(), text);
}

function render() {
  const language = page.state.languages.find((l) => l.tag === page.lang) || page.state.languages[0];
  page.lang = language.tag;
  document.documentElement.lang = language.tag;
  document.documentElement.dir = language.dir;
  document.title = words("How was your experience today?");
  renderLanguages();
  try {
    renderCamera();
  } catch (error) {
    $("camera-notice").textContent = CAMERA.on; // told in English rather than not told
  }
  try {
    renderNotices();
  } catch (error) {
    $("notices").replaceChildren(); // no notice rather than no smileys
  }
  renderRest();
  if (page.prompt) renderFollowUp(page.prompt);
  $("thanks-title").textContent = words("Thank you!");
  $("thanks-text").textContent = words("Your answer helps us improve.");
}

function renderFollowUp(prompt) {
  const question = page.state.survey[prompt.question];
  $("followup-question").textContent = surveyText(question.text);
  const grid = $("options");
  grid.replaceChildren();
  for (const option of question.options) {
    grid.appendChild(optionButton(surveyText(option.text), () => answer(prompt, option.key)));
  }
  const skip = optionButton(words("Skip"), () => answer(prompt, null));
  skip.classList.add("skip");
  grid.appendChild(skip);
}

function optionButton(text, onClick) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "option";
  button.textContent = text;
  button.addEventListener("click", onClick);
  return button;
}

function answer(prompt, option) {
  post("/api/answer", { event_id: prompt.event_id, option, language: page.lang });
  thanks();
}

function countdown(prompt) {
  const bar = $("countdown-bar");
  const started = Date.now();
  const total = prompt.answer_s * 1000;
  const tick = () => {
    const left = Math.max(0, total - (Date.now() - started));
    bar.style.transform = `scaleX(${left / total})`;
    $("countdown-text").textContent = words("%(seconds)s seconds left", { seconds: number(Math.ceil(left / 1000)) });
    if (left > 0 && page.prompt === prompt) page.timers.push(setTimeout(tick, 250));
  };
  tick();
}

function onPrompt(prompt) {
  clearTimers();
  const survey = page.state && page.state.survey;
  if (!prompt.question || !survey || !survey[prompt.question]) {
    page.prompt = null;
    thanks();
    window.kioskShown = { event_id: prompt.event_id, screen: "thanks", at: Date.now() };
    return;
  }
  page.prompt = prompt;
  renderFollowUp(prompt);
  show("followup");
  countdown(prompt);
  page.timers.push(setTimeout(thanks, prompt.answer_s * 1000));
  requestAnimationFrame(() => {
    window.kioskShown = { event_id: prompt.event_id, screen: "followup", at: Date.now() };
  });
}

function thanks() {
  clearTimers();
  page.prompt = null;
  show("thanks");
  page.timers.push(setTimeout(rest, THANKS_MS));
}

function rest() {
  clearTimers();
  page.prompt = null;
  page.lang = page.state.languages[0].tag; // the next traveller starts in the default language
  render();
  show("rest");
}

async function load() {
  const response = await fetch("/api/state");
  page.state = await response.json();
  if (!page.state.languages.some((l) => l.tag === page.lang)) page.lang = page.state.languages[0].tag;
  render();
}

function listen() {
  const events = new EventSource("/api/events");
  events.onopen = () => { document.body.dataset.listening = "true"; };
  events.onmessage = (message) => {
    const data = JSON.parse(message.data);
    if (data.type === "prompt") onPrompt(data);
    if (data.type === "state") load();
  };
}

document.addEventListener("DOMContentLoaded", async () => {
  await load();
  show("rest");
  listen();
  document.body.dataset.ready = "true";
});
