// Two locations, or two periods of one location, side by side.
"use strict";

async function fillLocations() {
  const locations = await Seed.get("/api/locations");
  const params = Seed.query();
  for (const [id, fallback] of [["a", 0], ["b", 1]]) {
    const select = document.getElementById(id);
    select.replaceChildren(...locations.map((l) => Seed.el("option", { value: l.location }, `${l.name} (${l.kind})`)));
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

function side(view) {
  const chart = Seed.el("div", { class: "chart" });
  const heat = Seed.el("div", { class: "chart" });
  const s = view.summary;
  const box = Seed.el("section", { class: "card side", "aria-label": view.name },
    Seed.el("h2", {}, view.name),
    Seed.el("p", { class: "muted" }, `${Seed.when(view.period.since)} – ${Seed.when(view.period.until)}`),
    Seed.el("div", { class: "side-score" }, Charts.face(s.happy_index, 56),
      Seed.el("div", {}, Seed.el("div", { class: "muted" }, "Happy Index"), Seed.index(s.happy_index)),
      Seed.el("p", {}, `${s.responses} responses · positive ${Seed.percent(s.positive_share)}` +
        (s.positive_ci ? ` (${Seed.percent(s.positive_ci[0])}–${Seed.percent(s.positive_ci[1])})` : ""))),
    Seed.el("h3", {}, "By day"), chart, Seed.el("h3", {}, "By hour and weekday"), heat);
  // drawn once the box is in the page, so that the charts take its width
  const draw = () => {
    Charts.trend(chart, view.trend_day, `${view.name}: Happy Index by day`);
    Charts.heatmap(heat, view.heatmap);
  };
  return [box, draw];
}

document.addEventListener("DOMContentLoaded", async () => {
  await fillLocations();
  document.getElementById("compare-form").addEventListener("submit", compare);
  if (document.getElementById("a").value) compare();
});
