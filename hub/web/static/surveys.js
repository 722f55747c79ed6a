// The surveys page: the list, one survey as a kiosk asks it in each language, and the forms
// that create (or edit), assign and retire surveys and set a place's languages.
"use strict";

const RTL = new Set(["ar", "fa", "he", "ur", "ps", "ckb", "dv", "yi", "sd", "ug"]);
const names = (() => {
  try {
    return new Intl.DisplayNames([Seed.lang()], { type: "language" });
  } catch {
    return null;
  }
})();

const Surveys = {
  surveys: [],
  places: [],
  shown: null, // {id, version}

  // The API's answer, with its refusal in words: {ok, status, data, message}.
  async call(method, path, body) {
    const options = { method, headers: { Accept: "application/json" } };
    if (method !== "GET") {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRF-Token"] = Seed.csrf();
      options.body = JSON.stringify(body ?? {});
    }
    let response;
    try {
      response = await fetch(path, options);
    } catch {
      return { ok: false, status: 0, message: Seed.t("The hub did not answer; check the connection and try again.") };
    }
    const data = await response.json().catch(() => null);
    if (response.ok) return { ok: true, status: response.status, data };
    return { ok: false, status: response.status, message: Surveys.refusal(response.status, data) };
  },

  refusal(status, data) {
    const detail = data?.detail;
    let text = "";
    if (typeof detail === "string") text = detail;
    else if (Array.isArray(detail)) {
      text = detail.map((d) => `${(d.loc ?? []).filter((p) => p !== "body").join(".")}: ${d.msg}`).join("\n");
    }
    const why = { 403: Seed.t("Not allowed"), 404: Seed.t("Not found"), 422: Seed.t("Not accepted") }[status]
      ?? Seed.t("Refused (%(status)s)", { status: Seed.number(status) });
    // Translators: why the hub refused, then its own explanation (in English): "Not allowed: …"
    return text ? Seed.t("%(refusal)s: %(detail)s", { refusal: why, detail: text }) : why;
  },

  language(tag) {
    const name = names?.of(tag);
    return name && name !== tag ? Surveys.named(name, tag) : tag;
  },

  // A name and what tells it apart: "Persian (fa)", "Gate A (touchpoint)".
  named(name, detail) {
    // Translators: a name and what tells it apart: "Persian (fa)", "Gate A (touchpoint)", "Security check (security)"
    return Seed.t("%(name)s (%(detail)s)", { name, detail });
  },

  // Items in a row (language tags, places): "en, nl, fa".
  listed(items) {
    // Translators: what separates the items of a list: "en, nl, fa"
    return items.join(Seed.t(", "));
  },

  // A place's kind, from the API's English word.
  kind(kind) {
    const kinds = { site: Seed.t("site"), area: Seed.t("area"), touchpoint: Seed.t("touchpoint") };
    return kinds[kind] ?? kind;
  },

  dir(tag) {
    return RTL.has(tag.split("-")[0]) ? "rtl" : "ltr";
  },

  // A text in its own language and direction.
  said(tag, text, element = "span", extra = {}) {
    return Seed.el(element, { lang: tag, dir: Surveys.dir(tag), ...extra }, text);
  },

  place(id) {
    const found = Surveys.places.find((p) => p.location === id);
    return found ? Surveys.named(found.name, Surveys.kind(found.kind)) : id;
  },

  // Children without the nulls (replaceChildren would write them as "null").
  fill(node, ...children) {
    node.replaceChildren(...children.filter((c) => c !== null && c !== undefined));
  },

  quiet() {
    document.getElementById("surveys-status").hidden = true;
  },

  status(text, ok = true) {
    const box = document.getElementById("surveys-status");
    box.textContent = text;
    box.classList.toggle("refused", !ok);
    box.hidden = false;
    box.focus();
  },

  fieldError(id, field, text) {
    const box = document.getElementById(id);
    const control = document.getElementById(field);
    box.textContent = text ?? "";
    box.hidden = !text;
    if (text) control.setAttribute("aria-invalid", "true");
    else control.removeAttribute("aria-invalid");
    if (text) control.focus();
  },

  async load() {
    const [surveys, places] = await Promise.all([Surveys.call("GET", "/api/surveys"), Surveys.call("GET", "/api/locations")]);
    if (!surveys.ok || !places.ok) {
      document.getElementById("surveys-list").replaceChildren(
        Seed.el("p", { class: "error" }, (surveys.ok ? places : surveys).message),
      );
      return;
    }
    Surveys.surveys = surveys.data;
    Surveys.places = places.data;
    Surveys.list();
    Surveys.fillSelects();
    if (Surveys.shown) await Surveys.show(Surveys.shown.id, Surveys.shown.version, false);
  },

  list() {
    const box = document.getElementById("surveys-list");
    if (!Surveys.surveys.length) {
      box.replaceChildren(Seed.el("p", {}, Seed.t("No survey yet: paste a survey file below to create one.")));
      return;
    }
    const label = {
      survey: Seed.t("Survey"),
      version: Seed.t("Latest version"),
      languages: Seed.t("Languages"),
      where: Seed.t("Where asked"),
      // Translators: a column: whether a survey is in use or retired
      state: Seed.t("State"),
      actions: Seed.t("Actions"),
    };
    const head = Seed.el("thead", {}, Seed.el("tr", {},
      ...Object.values(label).map((h) => Seed.el("th", { scope: "col" }, h))));
    const rows = Surveys.surveys.map((s) => {
      const places = s.assigned_to.map((p) => Seed.el("li", {}, Surveys.place(p)));
      let where;
      if (s.retired_at) {
        where = Seed.el("span", { class: "muted" }, Seed.t("no longer asked"),
          places.length
            ? Seed.el("span", { class: "small" }, Seed.t("was at %(places)s", { places: Surveys.listed(s.assigned_to.map(Surveys.place)) }))
            : null);
      } else if (places.length) where = Seed.el("ul", { class: "plain" }, ...places);
      else where = Seed.el("span", { class: "muted" }, s.asked_elsewhere ? Seed.t("none of your places") : Seed.t("nowhere yet"));
      let beyond;
      if (s.retired_at) beyond = Seed.t("was asked beyond your sites");
      else if (places.length) beyond = Seed.t("also asked beyond your sites");
      else beyond = Seed.t("asked beyond your sites");
      const elsewhere = s.asked_elsewhere ? Seed.el("span", { class: "muted small" }, beyond) : null;
      // Translators: a button in a survey's row that shows the survey (its name follows, for screen readers)
      const show = Seed.el("button", { type: "button", class: "secondary show", "data-survey": s.survey_id }, Seed.t("Show"), Seed.el("span", { class: "visually-hidden" }, ` ${s.name}`));
      show.addEventListener("click", () => Surveys.show(s.survey_id, null, true));
      return Seed.el("tr", { "data-survey": s.survey_id },
        Seed.el("td", { class: "primary" }, Seed.el("strong", { dir: "auto" }, s.name), Seed.el("code", { class: "small muted" }, s.survey_id)),
        Seed.el("td", { "data-label": label.version, class: "version" }, Seed.number(s.version)),
        Seed.el("td", { "data-label": label.languages }, Surveys.listed(s.languages)),
        Seed.el("td", { "data-label": label.where, class: "where wide" }, where, elsewhere),
        Seed.el("td", { "data-label": label.state, class: "state" },
          s.retired_at
            ? Seed.el("span", { class: "badge retired" }, Seed.t("retired %(day)s", { day: Seed.day(s.retired_at) }))
            : Seed.el("span", { class: "badge online" }, Seed.t("in use"))),
        Seed.el("td", { "data-label": label.actions }, show));
    });
    box.replaceChildren(Seed.el("div", { class: "table-card" },
      Seed.el("table", { class: "grid stack", id: "surveys" }, head, Seed.el("tbody", {}, ...rows))));
  },

  fillSelects() {
    const live = Surveys.surveys.filter((s) => !s.retired_at);
    const survey = document.getElementById("assign-survey");
    const before = survey.value;
    survey.replaceChildren(...(live.length
      ? live.map((s) => Seed.el("option", { value: s.survey_id }, Surveys.named(s.name, s.survey_id)))
      : [Seed.el("option", { value: "" }, Seed.t("no survey in use"))]));
    if (live.some((s) => s.survey_id === before)) survey.value = before;
    const depth = (p) => {
      let n = 0;
      for (let at = p; at.parent; n += 1) at = Surveys.places.find((q) => q.location === at.parent) ?? {};
      return n;
    };
    for (const select of document.querySelectorAll("select.places")) {
      const was = select.value;
      select.replaceChildren(...Surveys.places.map((p) =>
        Seed.el("option", { value: p.location }, `${"\u00a0\u00a0\u00a0".repeat(depth(p))}${Surveys.named(p.name, Surveys.kind(p.kind))}`)));
      if (Surveys.places.some((p) => p.location === was)) select.value = was;
    }
    Surveys.currentLanguages();
  },

  async currentLanguages() {
    const select = document.getElementById("languages-location");
    const now = document.getElementById("languages-now");
    if (!select.value) return;
    const answer = await Surveys.call("GET", `/api/locations/${encodeURIComponent(select.value)}/languages`);
    if (!answer.ok) {
      now.textContent = answer.message;
      return;
    }
    const languages = Surveys.listed(answer.data.languages.map(Surveys.language));
    now.textContent = answer.data.asks
      ? Seed.t("Now: %(languages)s; asks the survey %(survey)s.", { languages, survey: answer.data.asks })
      : Seed.t("Now: %(languages)s; asks no survey from the hub.", { languages });
    document.getElementById("languages-tags").value = answer.data.languages.join(", ");
  },

  async show(id, version, focus) {
    const path = `/api/surveys/${encodeURIComponent(id)}${version ? `?version=${version}` : ""}`;
    const answer = await Surveys.call("GET", path);
    const section = document.getElementById("survey-detail");
    if (!answer.ok) {
      Surveys.status(answer.message, false);
      return;
    }
    const survey = answer.data;
    const listing = Surveys.surveys.find((s) => s.survey_id === id);
    Surveys.shown = { id, version };
    section.hidden = false;
    if (focus) Surveys.quiet();
    Surveys.fill(document.getElementById("detail-heading"),
      Seed.el("span", { dir: "auto" }, listing?.name ?? id),
      " · ", Seed.t("version %(version)s", { version: Seed.number(survey.version) }),
      listing && survey.version !== listing.version ? Seed.el("span", { class: "badge" }, Seed.t("older version")) : null);
    Surveys.fill(document.getElementById("detail-actions"),...Surveys.actions(listing, survey));
    const versions = listing && listing.version > 1
      ? Seed.el("nav", { class: "versions", "aria-label": Seed.t("Versions") }, Seed.t("Versions:"), " ",
        ...Array.from({ length: listing.version }, (_, i) => listing.version - i).map((n) => {
          const version = Seed.number(n);
          const text = n === listing.version
            ? Seed.t("version %(version)s (latest)", { version })
            : Seed.t("version %(version)s", { version });
          const button = Seed.el("button", { type: "button", class: "link", "aria-current": n === survey.version ? "true" : null, "data-version": n }, text);
          button.addEventListener("click", () => Surveys.show(id, n === listing.version ? null : n, true));
          return button;
        }))
      : null;
    const facts = Seed.el("p", { class: "muted" },
      Seed.t("In %(languages)s; a follow-up waits %(seconds)s s.", {
        languages: Surveys.listed(survey.languages.map(Surveys.language)),
        seconds: Seed.number(survey.answer_s),
      }),
      " ", Surveys.whereText(listing));
    const kiosks = Seed.el("div", { class: "kiosk-previews" }, ...survey.languages.map((tag) => Surveys.preview(survey, tag)));
    Surveys.fill(document.getElementById("detail-body"), facts, versions, kiosks, Seed.el("div", { id: "retire-confirm" }));
    if (focus) section.focus();
  },

  whereText(listing) {
    if (!listing) return "";
    const mine = listing.assigned_to.map(Surveys.place);
    const places = Surveys.listed(mine);
    if (listing.retired_at) return mine.length ? Seed.t("Was asked at %(places)s.", { places }) : "";
    if (!mine.length) return listing.asked_elsewhere ? Seed.t("Asked beyond your sites only.") : Seed.t("Asked nowhere yet.");
    return listing.asked_elsewhere
      ? Seed.t("Asked at %(places)s, and beyond your sites.", { places })
      : Seed.t("Asked at %(places)s.", { places });
  },

  actions(listing, survey) {
    if (!listing || listing.retired_at) return [Seed.el("span", { class: "badge retired" }, Seed.t("retired: no longer asked"))];
    const edit = Seed.el("button", { type: "button", class: "secondary edit" }, Seed.t("Edit as a file"));
    edit.addEventListener("click", () => {
      const area = document.getElementById("survey-toml");
      area.value = Surveys.toml(listing.name, survey);
      Surveys.fieldError("toml-error", "survey-toml", null);
      area.focus();
    });
    // Translators: a button that asks for a confirmation before it retires the survey
    const retire = Seed.el("button", { type: "button", class: "secondary danger retire" }, Seed.t("Retire…"));
    retire.addEventListener("click", () => Surveys.confirmRetire(listing));
    return [edit, retire];
  },

  confirmRetire(listing) {
    const box = document.getElementById("retire-confirm");
    const yes = Seed.el("button", { type: "button", class: "danger confirm-retire" }, Seed.t("Yes, retire %(survey)s", { survey: listing.survey_id }));
    const no = Seed.el("button", { type: "button", class: "secondary" }, Seed.t("Keep it"));
    Surveys.quiet();
    const question = Seed.el("p", { id: "retire-question", tabindex: "-1" },
      Seed.el("strong", {}, Seed.t("Retire “%(name)s”?", { name: listing.name })), " ", Surveys.whereText(listing), " ",
      Seed.t("It will no longer be pushed to kiosks, and it cannot be assigned or edited again. Places fall back to a survey assigned above them; without one, their kiosks keep asking it until another is assigned."));
    const error = Seed.el("p", { class: "field-error", id: "retire-error", hidden: "" });
    box.replaceChildren(Seed.el("div", { class: "confirm", role: "group", "aria-labelledby": "retire-question" },
      question, error, Seed.el("div", { class: "actions" }, yes, no)));
    no.addEventListener("click", () => {
      box.replaceChildren();
      document.querySelector("#detail-actions .retire")?.focus();
    });
    yes.addEventListener("click", async () => {
      const answer = await Surveys.call("POST", `/api/surveys/${encodeURIComponent(listing.survey_id)}/retire`);
      if (!answer.ok) {
        error.textContent = answer.message;
        error.hidden = false;
        yes.setAttribute("aria-describedby", "retire-error");
        question.focus();
        return;
      }
      Surveys.shown = { id: listing.survey_id, version: null };
      await Surveys.load();
      Surveys.status(Surveys.done(Seed.t("Retired %(survey)s.", { survey: listing.survey_id }), answer.data.configs));
    });
    question.focus();
  },

  // What was done, then how many kiosks it gave a new config, each a sentence of its own.
  done(sentence, configs) {
    return [sentence, Surveys.kiosks(configs)].join(" ");
  },

  kiosks(n) {
    const count = Seed.number(n);
    // Translators: exactly one kiosk; write it as the other ("%(count)s kiosks …") if your language does not tell one from many
    return n === 1 ? Seed.t("%(count)s kiosk given a new config.", { count }) : Seed.t("%(count)s kiosks given a new config.", { count });
  },

  // One language's texts, laid out as the kiosk asks them.
  preview(survey, tag) {
    const dir = Surveys.dir(tag);
    // The dashboard's own words among the survey's: in the page's language and direction.
    const page = { lang: Seed.lang(), dir: document.documentElement.dir || "ltr" };
    const faces = {
      "very-unhappy": Seed.t("very unhappy"),
      unhappy: Seed.t("unhappy"),
      happy: Seed.t("happy"),
      "very-happy": Seed.t("very happy"),
    };
    const followUp = (name, after) => {
      const question = survey[name];
      if (!question) return null;
      return Seed.el("div", { class: `follow-up ${name}` },
        Seed.el("p", { class: "after", ...page }, after),
        Surveys.said(tag, question.text[tag], "p", { class: "asks" }),
        Seed.el("ul", { class: "options" }, ...question.options.map((o) =>
          Seed.el("li", { "data-option": o.key }, Surveys.said(tag, o.text[tag]), " ",
            Seed.el("code", { lang: "en", dir: "ltr" }, o.key)))));
    };
    return Seed.el("section", { class: "kiosk", "data-language": tag, "aria-label": Surveys.language(tag) },
      // Translators: a badge: the language a place asks in unless it sets its own
      Seed.el("h3", {}, Surveys.language(tag), tag === survey.languages[0] ? Seed.el("span", { class: "badge" }, Seed.t("default")) : null),
      Seed.el("div", { class: "screen", lang: tag, dir },
        Surveys.said(tag, survey.question[tag], "p", { class: "question" }),
        Seed.el("ul", { class: "faces", "aria-label": Seed.t("the four buttons"), ...page },
          ...Object.entries(faces).map(([face, text]) => Seed.el("li", { class: `face-${face}` }, text)))),
      followUp("negative", Seed.t("After unhappy or very unhappy")),
      followUp("positive", Seed.t("After happy or very happy")));
  },

  // The survey as a file the API reads again (JSON strings are TOML basic strings).
  toml(name, survey) {
    const q = (text) => JSON.stringify(text);
    const texts = (t) => survey.languages.map((tag) => `${tag} = ${q(t[tag])}`);
    const lines = [`id = ${q(survey.survey_id)}`, `name = ${q(name)}`,
      `languages = [${survey.languages.map(q).join(", ")}]`, `answer_s = ${survey.answer_s}`, "", "[question]", ...texts(survey.question)];
    for (const part of ["negative", "positive"]) {
      const question = survey[part];
      if (!question) continue;
      lines.push("", `[${part}]`, ...texts(question.text));
      for (const option of question.options) {
        lines.push("", `[[${part}.options]]`, `key = ${q(option.key)}`, ...texts(option.text));
      }
    }
    return `${lines.join("\n")}\n`;
  },

  async save(event) {
    event.preventDefault();
    const toml = document.getElementById("survey-toml").value;
    if (!toml.trim()) {
      Surveys.fieldError("toml-error", "survey-toml", Seed.t("Paste a survey file first."));
      return;
    }
    const answer = await Surveys.call("POST", "/api/surveys", { toml });
    if (!answer.ok) {
      Surveys.fieldError("toml-error", "survey-toml", answer.message);
      return;
    }
    Surveys.fieldError("toml-error", "survey-toml", null);
    const { survey, new: made, configs } = answer.data;
    if (made) document.getElementById("survey-toml").value = "";
    Surveys.shown = { id: survey.survey_id, version: null };
    await Surveys.load();
    const said = { survey: survey.survey_id, version: Seed.number(survey.version) };
    Surveys.status(made
      ? Surveys.done(Seed.t("Saved %(survey)s, version %(version)s.", said), configs)
      : Seed.t("Unchanged: version %(version)s of %(survey)s says the same; no new version made.", said));
  },

  async assign(event) {
    event.preventDefault();
    const id = document.getElementById("assign-survey").value;
    const location = document.getElementById("assign-location").value;
    if (!id) {
      Surveys.fieldError("assign-error", "assign-survey", Seed.t("No survey in use to assign: create one first."));
      return;
    }
    const answer = await Surveys.call("POST", `/api/surveys/${encodeURIComponent(id)}/assign`, { location });
    if (!answer.ok) {
      Surveys.fieldError("assign-error", "assign-location", answer.message);
      return;
    }
    Surveys.fieldError("assign-error", "assign-location", null);
    await Surveys.load();
    const asked = Seed.t("%(survey)s is now asked at %(place)s and beneath it.", { survey: id, place: Surveys.place(location) });
    Surveys.status(Surveys.done(asked, answer.data.configs));
  },

  async languages(event) {
    event.preventDefault();
    const location = document.getElementById("languages-location").value;
    const tags = document.getElementById("languages-tags").value.split(/[,\s]+/).filter(Boolean);
    if (!tags.length) {
      Surveys.fieldError("languages-error", "languages-tags", Seed.t("Give at least one language, e.g. en."));
      return;
    }
    const answer = await Surveys.call("PUT", `/api/locations/${encodeURIComponent(location)}/languages`, { languages: tags });
    if (!answer.ok) {
      Surveys.fieldError("languages-error", "languages-tags", answer.message);
      return;
    }
    Surveys.fieldError("languages-error", "languages-tags", null);
    await Surveys.currentLanguages();
    const asks = Seed.t("%(place)s now asks in %(languages)s.", {
      place: Surveys.place(location),
      languages: Surveys.listed(tags.map(Surveys.language)),
    });
    Surveys.status(Surveys.done(asks, answer.data.configs));
  },
};

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("survey-form").addEventListener("submit", Surveys.save);
  document.getElementById("assign-form").addEventListener("submit", Surveys.assign);
  document.getElementById("languages-form").addEventListener("submit", Surveys.languages);
  document.getElementById("languages-location").addEventListener("change", Surveys.currentLanguages);
  Surveys.load();
});
