// Two locations, or two periods of one location, side by side.
"use strict";

// The kinds of place the hub names in English.
function placeKinds() {
  return { site: Seed.t("site"), area: Seed.t("area"), touchpoint: Seed.t("touchpoint") };
}

async function fillLocations() {
  const locations = await Seed.get("/api/locations");
  const params = Seed.query();
  const kinds = placeKinds();
  for (const [id, fallback] of [["a", 0], ["b", 1]]) {
    const select = document.getElementById(id);
    select.replaceChildren(...locations.map((l) => Seed.el("option", { value: l.location },
      // Translators: a location and its kind in the list to choose from: "Gate A (touchpoint)"
      Seed.t("%(name)s (%(kind)s)", { name: l.name, kind: kinds[l.kind] ?? l.kind }))));
    select.value = params.get(id) ?? locations[Math.min(fallback, locations.length - 1)]?.location ?? "";
  }
}

async function compare(event) {
  event?.preventDefault();
  const a = document.getElementById("a").value;
  const days = Number(document.getElementById("days").value);
  const earlier = document.getElementById("earlier").checked;
  const query = new URLSearchParams({ a, days });
  if (earlier) {
    const until = new Date(Date.now() - days * 86400000);
    query.set("b_until", until.toISOString());
    query.set("b_since", new Date(until - days * 86400000).toISOString());
  } else {
    query.set("b", document.getElementById("b").value);
  }
  const data = await Seed.get(`/api/compare?${query}`);
  const sides = [side(data.a), side(data.b)];
  document.getElementById("sides").replaceChildren(...sides.map(([box]) => box));
  for (const [, draw] of sides) draw();
}

// "Responses: 120 · positive: 48% (41%–55%)"
function sideFigures(s) {
  const values = { count: Seed.number(s.responses), share: Seed.percent(s.positive_share) };
  if (!s.positive_ci) return Seed.t("Responses: %(count)s · positive: %(share)s", values);
  return Seed.t("Responses: %(count)s · positive: %(share)s (%(interval)s)",
    { ...values, interval: Seed.interval(s.positive_ci) });
}

function side(view) {
  const chart = Seed.el("div", { class: "chart" });
  const heat = Seed.el("div", { class: "chart" });
  const s = view.summary;
  const box = Seed.el("section", { class: "card side", "aria-label": view.name },
    Seed.el("h2", {}, view.name),
    Seed.el("p", { class: "muted" },
      // Translators: the period shown, from one moment to another
      Seed.t("%(since)s – %(until)s", { since: Seed.when(view.period.since), until: Seed.when(view.period.until) })),
    Seed.el("div", { class: "side-score" }, Charts.face(s.happy_index, 56),
      Seed.el("div", {}, Seed.el("div", { class: "muted" }, Seed.t("Happy Index")), Seed.index(s.happy_index)),
      Seed.el("p", {}, sideFigures(s))),
    Seed.el("h3", {}, Seed.t("By day")), chart, Seed.el("h3", {}, Seed.t("By hour and weekday")), heat);
  // drawn once the box is in the page, so that the charts take its width
  const draw = () => {
    Charts.trend(chart, view.trend_day, Seed.t("%(place)s: Happy Index by day", { place: view.name }));
    Charts.heatmap(heat, view.heatmap);
  };
  return [box, draw];
}

document.addEventListener("DOMContentLoaded", async () => {
  await fillLocations();
  document.getElementById("compare-form").addEventListener("submit", compare);
  if (document.getElementById("a").value) compare();
});
