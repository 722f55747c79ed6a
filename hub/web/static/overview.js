// Overview: every location with its Happy Index, interval, change and kiosks, and where its
// answers came from (kiosks, phones).
"use strict";

async function showOverview() {
  const days = document.getElementById("days").value;
  const view = document.getElementById("view").value;
  const data = await Seed.get(`/api/overview?days=${days}`);
  document.getElementById("period").textContent =
    // Translators: the period shown, from one moment to another
    Seed.t("%(since)s – %(until)s", { since: Seed.when(data.period.since), until: Seed.when(data.period.until) });
  showChannels(data.locations);
  let rows = data.locations;
  if (view === "ranking") {
    rows = rows.filter((row) => row.kind === "touchpoint");
    rows.sort((a, b) => (a.rank ?? 1e9) - (b.rank ?? 1e9) || b.responses - a.responses);
  }
  const body = document.querySelector("#overview tbody");
  body.replaceChildren(...rows.map((row) => overviewRow(row, view === "tree", data.observed_min_readings)));
}

// The column headings as the template writes them, for the phone's stacked rows.
function overviewLabels() {
  return {
    // Translators: a column heading: a location's place among the others of its kind
    rank: Seed.t("Rank"),
    location: Seed.t("Location"),
    index: Seed.t("Happy Index"),
    positive: Seed.t("Positive (95 %% CI)"),
    responses: Seed.t("Responses"),
    // Translators: a column heading: the Happy Index against the previous period
    change: Seed.t("Change"),
    // Translators: a column heading: the Happy Index the cameras read from faces
    observed: Seed.t("Observed"),
    kiosks: Seed.t("Kiosks"),
  };
}

// The kinds of place the hub names in English.
function placeKinds() {
  return { site: Seed.t("site"), area: Seed.t("area"), touchpoint: Seed.t("touchpoint") };
}

function overviewRow(row, indented, minReadings) {
  const labels = overviewLabels();
  const ci = row.positive_ci
    // Translators: a share of positive answers and its 95 % confidence interval: 48% (41%–55%)
    ? Seed.t("%(share)s (%(interval)s)", { share: Seed.percent(row.positive_share), interval: Seed.interval(row.positive_ci) })
    : "–";
  const arrow = row.change > 0 ? "▲" : row.change < 0 ? "▼" : "";
  const size = row.change === null ? "" : Seed.number(Math.abs(row.change), Number.isInteger(row.change) ? 0 : 1);
  // Translators: for a screen reader, the Happy Index rose by this many points
  const words = row.change > 0 ? Seed.t("up by %(change)s", { change: size })
    // Translators: for a screen reader, the Happy Index fell by this many points
    : row.change < 0 ? Seed.t("down by %(change)s", { change: size }) : "";
  const change = row.change === null
    ? "–"
    : Seed.el("span", {}, Seed.el("span", { "aria-hidden": words ? "true" : null }, arrow ? `${arrow} ${size}` : size),
      words ? Seed.el("span", { class: "visually-hidden" }, words) : null);
  const changeClass = row.change > 0 ? "num up" : row.change < 0 ? "num down" : "num";
  const name = Seed.el("td", { class: "primary", "data-label": labels.location },
    Seed.el("a", { href: `/locations/${encodeURIComponent(row.location)}` }, row.name));
  name.append(" ", Seed.el("span", { class: "badge" }, placeKinds()[row.kind] ?? row.kind));
  if (row.small_sample && row.responses) {
    name.append(" ", Seed.el("span", { class: "badge small-sample" }, Seed.t("small sample")));
  }
  const channels = channelLine(row.channels);
  if (channels && row.channels?.web) name.append(Seed.el("span", { class: "top-reason" }, channels));
  const reason = topReason(row.top_negative_reason);
  if (reason) name.append(Seed.el("span", { class: "top-reason" }, reason));
  const devices = row.devices;
  const health = Seed.el("td", { class: "wide", "data-label": labels.kiosks },
    Seed.el("span", { class: "badge online" }, Seed.t("%(count)s online", { count: Seed.number(devices.online) })), " ",
    devices.offline
      ? Seed.el("span", { class: "badge offline" }, Seed.t("%(count)s offline", { count: Seed.number(devices.offline) }))
      : null,
    Seed.el("div", { class: "muted" }, devices.last_seen
      ? Seed.t("last seen %(moment)s", { moment: Seed.when(devices.last_seen) })
      // Translators: no kiosk of this location has ever been heard from
      : Seed.t("never seen")));
  return Seed.el("tr", { class: indented ? `depth-${Math.min(row.depth, 2)}` : "", "data-location": row.location },
    Seed.el("td", { class: "num", "data-label": labels.rank }, Seed.number(row.rank)),
    name,
    Seed.el("td", { class: "num lead", "data-label": labels.index }, Seed.index(row.happy_index)),
    Seed.el("td", { class: "num", "data-label": labels.positive }, ci),
    Seed.el("td", { class: "num", "data-label": labels.responses }, Seed.number(row.responses)),
    Seed.el("td", { class: changeClass, "data-label": labels.change }, change),
    Seed.el("td", { class: "num", "data-label": labels.observed }, observedCell(row, minReadings)),
    health);
}

// The cameras' reading of a row with its coverage; "hidden" where fewer readings count than the
// hub's minimum (or showing them would reveal a smaller group), a dash where the cameras read nothing.
function observedCell(row, minReadings) {
  if (row.observed_suppressed) {
    const count = Seed.number(minReadings);
    return Seed.el("span", {},
      // Translators: in the Observed column, where too few faces were read to show a figure
      Seed.el("span", { "aria-hidden": "true" }, Seed.t("hidden")),
      // Translators: for a screen reader, what "hidden" in the Observed column means
      Seed.el("span", { class: "visually-hidden" },
        Seed.t("not shown: fewer than %(count)s readings here, or a smaller group beneath would show", { count })));
  }
  if (row.observed_index === null) return "–";
  return Seed.el("span", {}, Seed.number(row.observed_index),
    // Translators: under the observed index, the share of presses the cameras read: "coverage 62%"
    Seed.el("div", { class: "muted" }, Seed.t("coverage %(share)s", { share: Seed.percent(row.observed_coverage) })));
}

// "N from kiosks, M from phones", from a row's scored responses per channel; null without any.
function channelLine(channels) {
  const kiosk = channels?.kiosk ?? 0;
  const web = channels?.web ?? 0;
  if (!kiosk && !web) return null;
  // Translators: where the period's answers came from: "120 from kiosks, 14 from phones"
  return Seed.t("%(kiosk)s from kiosks, %(web)s from phones", { kiosk: Seed.number(kiosk), web: Seed.number(web) });
}

// Every answer of the period by channel, over the top places shown
// (their subtrees hold the rest).
function showChannels(rows) {
  const totals = { kiosk: 0, web: 0 };
  const shown = new Set(rows.map((r) => r.location));
  for (const row of rows.filter((r) => !shown.has(r.parent))) {
    for (const channel of Object.keys(totals)) totals[channel] += row.channels?.[channel] ?? 0;
  }
  const line = channelLine(totals);
  // Translators: before "120 from kiosks, 14 from phones", over every place shown
  document.getElementById("channels").textContent = line ? Seed.t("Answers in this period: %(channels)s.", { channels: line }) : "";
}

// The reason most given after an unhappy press, when the hub sends one (surveys):
// {option, label, count, share}. Nothing when it is absent.
function topReason(reason) {
  if (!reason) return null;
  if (typeof reason !== "object") return Seed.t("Top complaint: %(reason)s", { reason });
  const text = Seed.text(reason.labels ?? reason.label ?? reason.text) || reason.option || reason.key;
  if (!text) return null;
  if (typeof reason.share !== "number") return Seed.t("Top complaint: %(reason)s", { reason: text });
  return Seed.t("Top complaint: %(reason)s (%(share)s)", { reason: text, share: Seed.percent(reason.share) });
}

document.addEventListener("DOMContentLoaded", () => {
  for (const id of ["days", "view"]) document.getElementById(id).addEventListener("change", showOverview);
  showOverview();
});
