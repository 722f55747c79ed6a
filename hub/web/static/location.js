// A location's page: score, trend, heat map, buttons, the cameras' reading, its alerts.
"use strict";

let view = null;

async function showLocation() {
  const id = document.getElementById("name").dataset.location;
  const days = document.getElementById("days").value;
  view = await Seed.get(`/api/locations/${encodeURIComponent(id)}?days=${days}`);
  document.getElementById("name").textContent = view.name;
  document.getElementById("path").replaceChildren(...view.path.flatMap((p) => [
    Seed.el("a", { href: `/locations/${encodeURIComponent(p.location)}` }, p.name), " › "]));
  document.getElementById("period").textContent =
    `${Seed.when(view.period.since)} – ${Seed.when(view.period.until)}`;
  document.getElementById("zone").textContent = `(${view.time_zone})`;
  showSummary(view.summary);
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

function showSummary(summary) {
  const ci = summary.positive_ci
    ? `95 % CI ${Seed.percent(summary.positive_ci[0])}–${Seed.percent(summary.positive_ci[1])}` : "";
  document.getElementById("summary").replaceChildren(
    card("Happy Index", Seed.number(summary.happy_index), summary.small_sample ? "small sample" : null),
    card("Positive", Seed.percent(summary.positive_share), ci),
    card("Responses", summary.responses, summary.passersby ? `response rate ${Seed.percent(summary.responses / summary.passersby)}` : null),
    card("Misuse", summary.misuse, "presses flagged and left out"));
}

function showTrend() {
  const step = document.getElementById("step").value;
  const points = view[`trend_${step}`];
  Charts.trend(document.getElementById("trend"), points, `Happy Index by ${step}`);
}

function showObserved(observed) {
  const box = document.getElementById("observed");
  if (!observed) {
    box.replaceChildren(Seed.el("p", { class: "muted" }, "No camera readings here in this period."));
    return;
  }
  const gap = observed.gap === null ? "" : ` (${observed.gap > 0 ? "+" : ""}${observed.gap} against the buttons)`;
  const chart = Seed.el("div");
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
