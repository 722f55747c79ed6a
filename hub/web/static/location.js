// A location's page: score, trend, heat map, buttons, the cameras' reading, its tasks and alerts,
// (when the hub sends them) the reasons travellers gave, beside the score, and the phone
// survey: its QR links and posters, its score per channel and travellers' comments.
"use strict";

let view = null;

async function showLocation() {
  const id = document.getElementById("name").dataset.location;
  const days = document.getElementById("days").value;
  view = await Seed.get(`/api/locations/${encodeURIComponent(id)}?days=${days}`);
  document.getElementById("name").textContent = view.name;
  document.getElementById("path").replaceChildren(...view.path.flatMap((p, i) => [
    i ? Seed.el("span", { "aria-hidden": "true" }, " › ") : null,
    Seed.el("a", { href: `/locations/${encodeURIComponent(p.location)}` }, p.name)]).filter(Boolean));
  document.getElementById("period").textContent =
    `${Seed.when(view.period.since)} – ${Seed.when(view.period.until)}`;
  document.getElementById("zone").textContent = `(${view.time_zone})`;
  showSummary(view.summary);
  showReasons(view.reasons);
  showTrend();
  Charts.heatmap(document.getElementById("heatmap-box"), view.heatmap);
  Charts.buttons(document.getElementById("buttons"), view.summary.counts);
  showObserved(view.summary);
  showChildren(view.children);
  showTasks(id, days);
  showAlerts(id);
  showChannels(view.summary.channels);
  showComments(id, days);
}

// A 95 % confidence interval of shares: "95% CI 41%–55%".
function confidence(pair) {
  // Translators: CI is a confidence interval; level is "95%", interval e.g. "41%–55%"
  return Seed.t("%(level)s CI %(interval)s", { level: Seed.percent(0.95), interval: Seed.interval(pair) });
}

function card(label, value, note) {
  return Seed.el("div", { class: "card" }, Seed.el("div", { class: "muted" }, label),
    Seed.el("div", { class: "figure" }, value), note ? Seed.el("div", { class: "muted" }, note) : null);
}

// The Happy Index large, in its colour, with its smiley and where it stands on the 0-100 scale;
// the other figures beneath it.
function showSummary(summary) {
  const index = summary.happy_index;
  const hero = Seed.el("div", { class: "card hero" },
    Charts.face(index, 104),
    Seed.el("div", { class: "label" }, Seed.t("Happy Index")),
    Seed.el("div", { class: "big" }, Seed.index(index),
      summary.small_sample ? Seed.el("span", { class: "badge small-sample" }, Seed.t("small sample")) : null,
      Seed.el("span", { class: "muted" }, Seed.t("out of %(most)s", { most: Seed.number(100) }))),
    Charts.gauge(index));
  const ci = summary.positive_ci ? confidence(summary.positive_ci) : "";
  const stats = Seed.el("div", { class: "stats" },
    // Translators: the share of happy presses, over a percentage
    card(Seed.t("Positive"), Seed.percent(summary.positive_share), ci),
    card(Seed.t("Responses"), Seed.number(summary.responses), summary.passersby
      ? Seed.t("response rate %(rate)s", { rate: Seed.percent(summary.responses / summary.passersby) }) : null),
    // Translators: presses judged not to be a traveller's answer (a child playing, a bag leaning)
    card(Seed.t("Misuse"), Seed.number(summary.misuse), Seed.t("presses flagged and left out")));
  document.getElementById("summary").replaceChildren(hero, stats);
}

// ---- Reasons beside the score -------------------------------------------------------------
// The location JSON's `reasons`: per follow-up question ("negative" after an unhappy press,
// "positive" after a happy one) {answered, unanswered, options: [{option, label, count, share,
// ci}], …}. Also read: a bare list of options per question, or a list of {question, options},
// and options written {key, text}. Absent, or no option given in the period: the section stays
// hidden, and the score stands alone.
function reasonGroups(reasons) {
  if (!reasons || typeof reasons !== "object") return [];
  const entries = Array.isArray(reasons)
    ? reasons.map((r) => [r?.question ?? r?.kind ?? r?.polarity, r])
    : Object.entries(reasons);
  return entries.map(([question, value]) => {
    const options = (Array.isArray(value) ? value : (value?.options ?? []))
      .filter((o) => o && typeof o === "object");
    return {
      question: String(question ?? ""), options,
      answered: typeof value?.answered === "number" ? value.answered : null,
      unanswered: typeof value?.unanswered === "number" ? value.unanswered : null,
      top: Array.isArray(value?.top) ? value.top : [],
      trend: Array.isArray(value?.trend) ? value.trend.filter((p) => p && p.options) : [],
    };
  }).filter((g) => g.options.length);
}

function showReasons(reasons) {
  const section = document.getElementById("reasons");
  const groups = reasonGroups(reasons);
  document.getElementById("score-row").classList.toggle("with-reasons", groups.length > 0);
  section.hidden = groups.length === 0;
  if (!groups.length) {
    document.getElementById("reasons-body").replaceChildren();
    return;
  }
  const names = { negative: Seed.t("What went wrong"), positive: Seed.t("What went well") };
  document.getElementById("reasons-body").replaceChildren(...groups.map((group) => {
    const kind = group.question === "positive" ? "positive" : "negative";
    const most = Math.max(0, ...group.options.map((o) => Number(o.share) || 0));
    const asked = group.answered === null ? null : group.unanswered
      ? Seed.t("%(answered)s answered, %(skipped)s skipped", {
        answered: Seed.number(group.answered), skipped: Seed.number(group.unanswered),
      })
      : Seed.t("%(answered)s answered", { answered: Seed.number(group.answered) });
    return Seed.el("div", { class: "reason-group", "data-question": group.question },
      Seed.el("h3", {}, names[group.question] ?? group.question,
        asked ? Seed.el("span", { class: "muted reason-asked" }, ` · ${asked}`) : null),
      Seed.el("ul", { class: "reason-list" }, ...group.options.map((option) => {
        const key = option.option ?? option.key ?? "";
        const share = typeof option.share === "number" ? option.share : null;
        const ci = Array.isArray(option.ci) && option.ci.length === 2
          ? `${typeof option.count === "number" ? " · " : ""}${confidence(option.ci)}` : "";
        const bar = Seed.el("span");
        if (share !== null && most > 0) bar.style.inlineSize = `${Math.round((share / most) * 100)}%`;
        const count = typeof option.count === "number"
          ? Seed.t("%(count)s chose it", { count: Seed.number(option.count) }) : "";
        return Seed.el("li", { "data-reason": key },
          Seed.el("span", { class: "reason-text" }, reasonName(option) || "–"),
          Seed.el("strong", { class: "reason-share" }, share === null ? "–" : Seed.percent(share)),
          Seed.el("span", { class: `reason-bar ${kind}`, "aria-hidden": "true" }, bar),
          count || ci ? Seed.el("span", { class: "reason-note muted" }, `${count}${ci}`) : null);
      })),
      reasonTrend(group));
  }));
}

function reasonName(option) {
  return Seed.text(option.labels ?? option.label ?? option.text) || option.option || option.key || "";
}

// How the top reasons moved over the period, where more than one day has answers.
function reasonTrend(group) {
  if (group.trend.filter((p) => p.answered).length < 2) return null;
  const names = new Map(group.options.map((o) => [o.option ?? o.key, reasonName(o)]));
  const box = Seed.el("div", { class: "chart reason-trend" });
  const wrapper = Seed.el("div", { class: "reason-trend-box" },
    Seed.el("h4", {}, Seed.t("How the top reasons moved")), box);
  requestAnimationFrame(() => Charts.reasonTrend(box, group, (key) => names.get(key) || key));
  return wrapper;
}

// The days the survey's question changed, as the reasons' trend records them (each answer
// names the survey version it answered).
function questionChanges() {
  return reasonGroups(view.reasons).flatMap((group) =>
    group.trend.filter((p) => p.question_changed).map((p) => String(p.start)));
}
// ---------------------------------------------------------------------------------------------

function showTrend() {
  const step = document.getElementById("step").value;
  const points = view[`trend_${step}`];
  const titles = {
    day: Seed.t("Happy Index by day"),
    week: Seed.t("Happy Index by week"),
    month: Seed.t("Happy Index by month"),
  };
  Charts.trend(document.getElementById("trend"), points, titles[step] ?? Seed.t("Happy Index"), step,
    questionChanges());
}

// The cameras' reading beside the buttons, with its coverage; nothing of it where fewer
// readings count than the hub's minimum (so no one traveller's reading can be singled out).
function showObserved(summary) {
  const box = document.getElementById("observed");
  const observed = summary.observed;
  if (summary.observed_suppressed) {
    box.replaceChildren(Seed.el("p", { class: "muted" },
      // Translators: the cameras read too few faces here to show their figures; count is e.g. "10"
      Seed.t("Not shown: fewer than %(count)s readings here, or showing them would reveal a smaller group beneath. No one traveller's reading can be singled out.",
        { count: Seed.number(summary.observed_min_readings) })));
    return;
  }
  if (!observed) {
    box.replaceChildren(Seed.el("p", { class: "muted" }, Seed.t("No camera readings here in this period.")));
    return;
  }
  const values = {
    index: Seed.number(observed.observed_index),
    gap: Seed.signed(observed.gap, 1),
  };
  const reading = observed.gap === null
    ? Seed.t("Observed index %(index)s.", values)
    : Seed.t("Observed index %(index)s (%(gap)s against the buttons).", values);
  // Translators: readings per press where the cameras read: "Coverage 62% (124 readings of 200 kiosk presses)."
  const coverage = Seed.t("Coverage %(share)s (%(readings)s readings of %(presses)s kiosk presses).", {
    share: Seed.percent(observed.coverage),
    readings: Seed.number(observed.readings),
    presses: Seed.number(observed.presses),
  });
  const chart = Seed.el("div", { class: "chart" });
  box.replaceChildren(Seed.el("p", {}, reading), Seed.el("p", { class: "muted" }, coverage), chart);
  Charts.emotions(chart, observed.emotions);
}

function showChildren(children) {
  document.getElementById("children-card").hidden = children.length === 0;
  document.getElementById("children").replaceChildren(...children.map((child) =>
    Seed.el("li", {}, Seed.el("a", { href: `/locations/${encodeURIComponent(child)}` }, child))));
}

// The place's unresolved tasks and its task figures over the page's period (tasks.js's
// TaskText and Tasks.figureRow draw them as the Tasks page does).
async function showTasks(id, days) {
  const place = `location=${encodeURIComponent(id)}`;
  const [open, figures] = await Promise.all([
    TaskText.call("GET", `/api/tasks?state=unresolved&limit=20&${place}`),
    TaskText.call("GET", `/api/tasks/figures?days=${days}&${place}`),
  ]);
  const list = document.getElementById("tasks-open");
  if (!open.ok) {
    list.replaceChildren(Seed.el("p", { class: "muted" }, open.message));
  } else if (!open.data.length) {
    list.replaceChildren(Seed.el("p", { class: "muted" }, Seed.t("No unresolved tasks.")));
  } else {
    list.replaceChildren(Seed.el("ul", { class: "plain task-panel-list" }, ...open.data.map((t) =>
      Seed.el("li", { "data-task-id": t.id },
        Seed.el("strong", {}, Seed.t("%(place)s: %(title)s", { place: t.location_name, title: t.title })), " ",
        TaskText.state(t), ...TaskText.flags(t).flatMap((flag) => [" ", flag]),
        Seed.el("span", { class: "small muted" },
          // Translators: under a task on a location's page: its team, and when it was opened
          Seed.t("%(team)s · opened %(moment)s", { team: t.team_name, moment: TaskText.when(t.opened_at, t.time_zone) }))))));
  }
  const body = document.querySelector("#tasks-figures tbody");
  const rows = figures.ok ? Tasks.teamsFirst(figures.data.rows).map(Tasks.figureRow) : [];
  body.replaceChildren(...(rows.length ? rows : [Seed.el("tr", {},
    Seed.el("td", { colspan: "7", class: "muted" }, figures.ok ? Seed.t("No tasks in this period.") : figures.message))]));
}

async function showAlerts(id) {
  const box = document.getElementById("alerts");
  try {
    const alerts = await Seed.get(`/api/alerts?location=${encodeURIComponent(id)}&state=all`);
    box.replaceChildren(alerts.length
      ? Seed.el("ul", {}, ...alerts.slice(0, 20).map((a) => Seed.el("li", {},
          `${Seed.when(a.opened_at)}: ${a.message} `,
          Seed.el("span", { class: a.acknowledged_at ? "badge" : "badge open" }, a.acknowledged_at
            // Translators: an alert someone has seen and acknowledged
            ? Seed.t("acknowledged")
            // Translators: an alert not yet acknowledged
            : Seed.t("open")))))
      : Seed.el("p", { class: "muted" }, Seed.t("No alerts.")));
  } catch (error) {
    box.replaceChildren(Seed.el("p", { class: "muted" }, Seed.t("Alerts are not available.")));
  }
}

// ---- The phone survey -----------------------------------------------------------------------
// Its links (/api/locations/{id}/phone-links), posters, score per channel (the summary's
// `channels`) and comments (/api/locations/{id}/comments, with Hide and Show).
const Phone = {
  id: null,

  path(suffix) {
    return `/api/locations/${encodeURIComponent(Phone.id)}/${suffix}`;
  },

  say(text, ok = true) {
    const box = document.getElementById("phone-status");
    box.textContent = text;
    box.classList.toggle("refused", !ok);
    box.hidden = false;
  },

  // Runs a change; says what was done, or why it was not.
  async change(path, done) {
    try {
      const answer = await Seed.post(path);
      Phone.say(done);
      return answer;
    } catch (error) {
      // Translators: a change on the location page failed; error is the hub's answer
      Phone.say(Seed.t("Not done: %(error)s", { error: error.message }), false);
      return null;
    }
  },
};

async function showPhoneLinks() {
  const list = document.getElementById("phone-links");
  let links;
  try {
    links = await Seed.get(Phone.path("phone-links"));
  } catch (error) {
    list.replaceChildren(Seed.el("li", { class: "muted" }, Seed.t("Links are not available.")));
    return;
  }
  const live = links.filter((link) => link.live);
  const revoked = links.length - live.length;
  const items = [...live.map(linkItem),
    live.length ? null : Seed.el("li", { class: "muted" },
      Seed.t("No live link yet: a poster download or “New link” makes one.")),
    revoked ? Seed.el("li", { class: "muted small" },
      Seed.t("%(count)s revoked", { count: Seed.number(revoked) })) : null];
  list.replaceChildren(...items.filter(Boolean)); // replaceChildren would write "null"
}

function linkItem(link) {
  const url = Seed.el("code", { class: "link-url", dir: "ltr", id: `url-${link.token}` }, link.url);
  const by = link.kiosk
    // Translators: a link on a kiosk's sticker, made at a moment by someone
    ? Seed.t("kiosk %(kiosk)s · made %(moment)s by %(who)s", { kiosk: link.kiosk, moment: Seed.when(link.created_at), who: link.created_by })
    // Translators: a link on a poster, made at a moment by someone
    : Seed.t("made %(moment)s by %(who)s", { moment: Seed.when(link.created_at), who: link.created_by });
  const reissue = Seed.el("button", { type: "button", class: "secondary danger", "aria-describedby": url.id },
    Seed.t("Revoke and reissue…"));
  reissue.addEventListener("click", () => confirmReissue(link, reissue));
  const actions = Seed.el("div", { class: "actions" }, reissue);
  if (navigator.clipboard) {
    const copy = Seed.el("button", { type: "button", class: "secondary", "aria-describedby": url.id }, Seed.t("Copy"));
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(link.url);
        Phone.say(Seed.t("Link copied."));
      } catch {
        Phone.say(Seed.t("Could not copy: select the link and copy it."), false);
      }
    });
    actions.prepend(copy);
  }
  return Seed.el("li", { class: "phone-link", "data-token": link.token }, url,
    Seed.el("span", { class: "muted small" }, by), actions);
}

function confirmReissue(link, opener) {
  Seed.confirm(document.getElementById("phone-confirm"), {
    id: "reissue-question",
    title: Seed.t("Revoke this link and make a new one?"),
    detail: Seed.t("Posters that carry it stop working: their page says the link was taken down. Print the new poster and put it up in their place."),
    yes: Seed.t("Yes, revoke and reissue"),
    no: Seed.t("Keep it"),
    opener,
    onYes: async () => {
      const made = await Phone.change(`/api/phone-links/${encodeURIComponent(link.token)}/reissue`,
        Seed.t("Link revoked; a new link is made. Download the new poster."));
      await showPhoneLinks();
      if (made) document.getElementById("poster-a4").focus();
    },
  });
}

async function newLink() {
  await Phone.change(Phone.path("phone-links"), Seed.t("New link made."));
  await showPhoneLinks();
}

function posterLinks() {
  const posters = { "poster-a4": "poster.pdf?size=a4", "poster-a5": "poster.pdf?size=a5", "poster-svg": "poster.svg?size=a4" };
  for (const [id, file] of Object.entries(posters)) {
    const link = document.getElementById(id);
    link.href = Phone.path(file);
    // A poster of a place without a live link makes one: list it once the download began.
    link.addEventListener("click", () => setTimeout(showPhoneLinks, 1500));
  }
}

// Kiosk and phone answers side by side: responses, Happy Index, % positive with its interval.
function showChannels(channels) {
  const names = { kiosk: Seed.t("Kiosk"), web: Seed.t("Phone") };
  const rows = Object.keys(names).map((channel) => {
    const score = channels?.[channel];
    const positive = score?.positive_ci
      ? Seed.t("%(share)s (%(interval)s)", { share: Seed.percent(score.positive_share), interval: Seed.interval(score.positive_ci) })
      : "–";
    return Seed.el("tr", { "data-channel": channel },
      Seed.el("th", { scope: "row" }, names[channel]),
      Seed.el("td", { class: "num" }, Seed.number(score?.responses ?? 0)),
      Seed.el("td", { class: "num" }, Seed.index(score?.happy_index ?? null)),
      Seed.el("td", { class: "num" }, positive));
  });
  document.querySelector("#channels tbody").replaceChildren(...rows);
}

// The smileys' names, by the API's answer.
function answerNames() {
  return {
    very_happy: Seed.t("Very happy"), happy: Seed.t("Happy"),
    unhappy: Seed.t("Unhappy"), very_unhappy: Seed.t("Very unhappy"),
  };
}

const languageNames = (() => {
  try {
    return new Intl.DisplayNames([Seed.lang()], { type: "language" });
  } catch {
    return null;
  }
})();

async function showComments(id, days) {
  const list = document.getElementById("comments");
  const count = document.getElementById("comments-count");
  document.getElementById("comments-csv").href = Phone.path(`comments.csv?days=${days}`);
  let found;
  try {
    found = await Seed.get(Phone.path(`comments?days=${days}`));
  } catch (error) {
    count.textContent = Seed.t("Comments are not available.");
    list.replaceChildren();
    return;
  }
  count.textContent = found.count
    ? Seed.t("%(count)s in this period; %(total)s written here in all.", { count: Seed.number(found.count), total: Seed.number(found.total) })
    : Seed.t("No comments in this period.");
  list.replaceChildren(...found.comments.map((c) => commentItem(c, found.retention_days)));
}

function commentItem(comment, retentionDays) {
  const textId = `comment-${comment.response_id}`;
  const text = comment.text === null
    ? Seed.el("p", { class: "comment-text muted", id: textId },
      Seed.t("(erased after %(days)s days)", { days: Seed.number(retentionDays) }))
    : Seed.el("p", { class: "comment-text", id: textId, lang: comment.language, dir: "auto" }, comment.text);
  const language = languageNames?.of(comment.language) ?? comment.language;
  const facts = Seed.el("p", { class: "muted small" },
    [answerNames()[comment.button] ?? comment.button, language, Seed.when(comment.created_at),
      comment.location_name].join(" · "),
    comment.masked.length ? Seed.el("span", { class: "badge" }, Seed.t("personal data masked")) : null,
    comment.hidden ? Seed.el("span", { class: "badge retired" }, Seed.t("hidden")) : null);
  const toggle = Seed.el("button", { type: "button", class: "secondary", "aria-describedby": textId },
    comment.hidden ? Seed.t("Show") : Seed.t("Hide"));
  toggle.addEventListener("click", async () => {
    const action = comment.hidden ? "show" : "hide";
    const done = comment.hidden ? Seed.t("Comment shown again.") : Seed.t("Comment hidden; exports leave it out.");
    const answer = await Phone.change(`/api/comments/${encodeURIComponent(comment.response_id)}/${action}`, done);
    if (!answer) return;
    const item = commentItem({ ...comment, hidden: answer.hidden }, retentionDays);
    toggle.closest("li").replaceWith(item);
    item.querySelector("button").focus();
  });
  return Seed.el("li", { class: comment.hidden ? "comment hidden-comment" : "comment" }, text, facts, toggle);
}

document.addEventListener("DOMContentLoaded", () => {
  Phone.id = document.getElementById("name").dataset.location;
  document.getElementById("days").addEventListener("change", showLocation);
  document.getElementById("step").addEventListener("change", showTrend);
  document.getElementById("phone-new-link").addEventListener("click", newLink);
  posterLinks();
  showLocation();
  showPhoneLinks();
});
