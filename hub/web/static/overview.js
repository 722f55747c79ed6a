// Overview: every location with its Happy Index, interval, change and kiosks.
"use strict";

async function showOverview() {
  const days = document.getElementById("days").value;
  const view = document.getElementById("view").value;
  const data = await Seed.get(`/api/overview?days=${days}`);
  document.getElementById("period").textContent =
    `${Seed.when(data.period.since)} – ${Seed.when(data.period.until)}`;
  let rows = data.locations;
  if (view === "ranking") {
    rows = rows.filter((row) => row.kind === "touchpoint");
    rows.sort((a, b) => (a.rank ?? 1e9) - (b.rank ?? 1e9) || b.responses - a.responses);
  }
  const body = document.querySelector("#overview tbody");
  body.replaceChildren(...rows.map((row) => overviewRow(row, view === "tree")));
}

function overviewRow(row, indented) {
  const ci = row.positive_ci
    ? `${Seed.percent(row.positive_share)} (${Seed.percent(row.positive_ci[0])}–${Seed.percent(row.positive_ci[1])})`
    : "–";
  const arrow = row.change > 0 ? "▲" : row.change < 0 ? "▼" : "";
  const words = row.change > 0 ? "up" : row.change < 0 ? "down" : "";
  const change = row.change === null
    ? "–"
    : Seed.el("span", {}, Seed.el("span", { "aria-hidden": "true" }, `${arrow} `),
      words ? Seed.el("span", { class: "visually-hidden" }, `${words} `) : null, Math.abs(row.change));
  const changeClass = row.change > 0 ? "num up" : row.change < 0 ? "num down" : "num";
  const name = Seed.el("td", { class: "primary", "data-label": "Location" },
    Seed.el("a", { href: `/locations/${encodeURIComponent(row.location)}` }, row.name));
  name.append(" ", Seed.el("span", { class: "badge" }, row.kind));
  if (row.small_sample && row.responses) name.append(" ", Seed.el("span", { class: "badge small-sample" }, "small sample"));
  const reason = topReason(row.top_negative_reason);
  if (reason) name.append(Seed.el("span", { class: "top-reason" }, reason));
  const devices = row.devices;
  const health = Seed.el("td", { class: "wide", "data-label": "Kiosks" },
    Seed.el("span", { class: "badge online" }, `${devices.online} online`), " ",
    devices.offline ? Seed.el("span", { class: "badge offline" }, `${devices.offline} offline`) : null,
    Seed.el("div", { class: "muted" }, `last seen ${Seed.when(devices.last_seen)}`));
  return Seed.el("tr", { class: indented ? `depth-${Math.min(row.depth, 2)}` : "", "data-location": row.location },
    Seed.el("td", { class: "num", "data-label": "Rank" }, row.rank ?? "–"),
    name,
    Seed.el("td", { class: "num lead", "data-label": "Happy Index" }, Seed.index(row.happy_index)),
    Seed.el("td", { class: "num", "data-label": "Positive (95 % CI)" }, ci),
    Seed.el("td", { class: "num", "data-label": "Responses" }, row.responses),
    Seed.el("td", { class: changeClass, "data-label": "Change" }, change),
    Seed.el("td", { class: "num", "data-label": "Observed" }, Seed.number(row.observed_index)),
    health);
}

// The reason most given after an unhappy press, when the hub sends one (surveys):
// {option, label, count, share}. Nothing when it is absent.
function topReason(reason) {
  if (!reason) return null;
  if (typeof reason !== "object") return `Top complaint: ${reason}`;
  const text = Seed.text(reason.label ?? reason.text) || reason.option || reason.key;
  if (!text) return null;
  const share = typeof reason.share === "number" ? ` (${Seed.percent(reason.share)})` : "";
  return `Top complaint: ${text}${share}`;
}

document.addEventListener("DOMContentLoaded", () => {
  for (const id of ["days", "view"]) document.getElementById(id).addEventListener("change", showOverview);
  showOverview();
});
