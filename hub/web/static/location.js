// A location's page: score, trend, heat map, buttons, the cameras' reading, its alerts, and
// (when the hub sends them) the reasons travellers gave, beside the score.
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
  showObserved(view.summary.observed);
  showChildren(view.children);
  showAlerts(id);
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
    Seed.el("div", { class: "label" }, "Happy Index"),
    Seed.el("div", { class: "big" }, Seed.index(index),
      summary.small_sample ? Seed.el("span", { class: "badge small-sample" }, "small sample") : null,
      Seed.el("span", { class: "muted" }, "out of 100")),
    Charts.gauge(index));
  const ci = summary.positive_ci
    ? `95 % CI ${Seed.percent(summary.positive_ci[0])}–${Seed.percent(summary.positive_ci[1])}` : "";
  const stats = Seed.el("div", { class: "stats" },
    card("Positive", Seed.percent(summary.positive_share), ci),
    card("Responses", summary.responses, summary.passersby ? `response rate ${Seed.percent(summary.responses / summary.passersby)}` : null),
    card("Misuse", summary.misuse, "presses flagged and left out"));
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
  const names = { negative: "What went wrong", positive: "What went well" };
  document.getElementById("reasons-body").replaceChildren(...groups.map((group) => {
    const kind = group.question === "positive" ? "positive" : "negative";
    const most = Math.max(0, ...group.options.map((o) => Number(o.share) || 0));
    const asked = group.answered === null ? null
      : `${group.answered} answered` + (group.unanswered ? `, ${group.unanswered} skipped` : "");
    return Seed.el("div", { class: "reason-group", "data-question": group.question },
      Seed.el("h3", {}, names[group.question] ?? group.question,
        asked ? Seed.el("span", { class: "muted reason-asked" }, ` · ${asked}`) : null),
      Seed.el("ul", { class: "reason-list" }, ...group.options.map((option) => {
        const key = option.option ?? option.key ?? "";
        const share = typeof option.share === "number" ? option.share : null;
        const ci = Array.isArray(option.ci) && option.ci.length === 2
          ? `${typeof option.count === "number" ? " · " : ""}95 % CI ${Seed.percent(option.ci[0])}–${Seed.percent(option.ci[1])}` : "";
        const bar = Seed.el("span");
        if (share !== null && most > 0) bar.style.inlineSize = `${Math.round((share / most) * 100)}%`;
        const count = typeof option.count === "number" ? `${option.count} chose it` : "";
        return Seed.el("li", { "data-reason": key },
          Seed.el("span", { class: "reason-text" }, Seed.text(option.label ?? option.text) || key || "–"),
          Seed.el("strong", { class: "reason-share" }, share === null ? "–" : Seed.percent(share)),
          Seed.el("span", { class: `reason-bar ${kind}`, "aria-hidden": "true" }, bar),
          count || ci ? Seed.el("span", { class: "reason-note muted" }, `${count}${ci}`) : null);
      })));
  }));
}
// ---------------------------------------------------------------------------------------------

function showTrend() {
  const step = document.getElementById("step").value;
  const points = view[`trend_${step}`];
  Charts.trend(document.getElementById("trend"), points, `Happy Index by ${step}`, step);
}

function showObserved(observed) {
  const box = document.getElementById("observed");
  if (!observed) {
    box.replaceChildren(Seed.el("p", { class: "muted" }, "No camera readings here in this period."));
    return;
  }
  const gap = observed.gap === null ? "" : ` (${observed.gap > 0 ? "+" : ""}${observed.gap} against the buttons)`;
  const chart = Seed.el("div", { class: "chart" });
  box.replaceChildren(Seed.el("p", {}, `Observed index ${observed.observed_index}${gap} from ${observed.readings} readings.`), chart);
  Charts.emotions(chart, observed.emotions);
}

function showChildren(children) {
  document.getElementById("children-card").hidden = children.length === 0;
  document.getElementById("children").replaceChildren(...children.map((child) =>
    Seed.el("li", {}, Seed.el("a", { href: `/locations/${encodeURIComponent(child)}` }, child))));
}

async function showAlerts(id) {
  const box = document.getElementById("alerts");
  try {
    const alerts = await Seed.get(`/api/alerts?location=${encodeURIComponent(id)}&state=all`);
    box.replaceChildren(alerts.length
      ? Seed.el("ul", {}, ...alerts.slice(0, 20).map((a) => Seed.el("li", {},
          `${Seed.when(a.opened_at)}: ${a.message} `,
          Seed.el("span", { class: a.acknowledged_at ? "badge" : "badge open" }, a.acknowledged_at ? "acknowledged" : "open"))))
      : Seed.el("p", { class: "muted" }, "No alerts."));
  } catch (error) {
    box.replaceChildren(Seed.el("p", { class: "muted" }, "Alerts are not available."));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("days").addEventListener("change", showLocation);
  document.getElementById("step").addEventListener("change", showTrend);
  showLocation();
});
