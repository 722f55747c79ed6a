// The reports page: each report's day, week or month in the page's language, and the CSV
// download links in step with their form.
"use strict";

// The local days a report covers ("2026-11-16"), as days on the calendar: read and written
// in UTC so that no reader's time zone moves them.
const CALENDAR = { timeZone: "UTC" };
const PERIOD_FORMATS = {
  daily: { ...CALENDAR, dateStyle: "medium" },
  weekly: { ...CALENDAR, dateStyle: "medium" },
  monthly: { ...CALENDAR, month: "long", year: "numeric" },
};

function periodText(node) {
  const first = new Date(node.dataset.first);
  const last = new Date(node.dataset.last);
  const format = PERIOD_FORMATS[node.dataset.cadence];
  if (!format || Number.isNaN(first.getTime()) || Number.isNaN(last.getTime())) return null;
  const formatter = Seed.format(format);
  return node.dataset.cadence === "weekly" ? formatter.formatRange(first, last) : formatter.format(first);
}

function localizePeriods() {
  for (const node of document.querySelectorAll("time.period")) {
    node.textContent = periodText(node) ?? node.textContent;
  }
}

function exportLinks() {
  const form = document.getElementById("export-form");
  const values = new FormData(form);
  const period = new URLSearchParams({
    location: values.get("location") ?? "",
    since: values.get("since") ?? "",
    until: values.get("until") ?? "",
  });
  document.getElementById("download-responses-csv").href =
    `/api/exports/responses.csv?${period}`;
  document.getElementById("download-reasons-csv").href = `/api/exports/reasons.csv?${period}`;
  period.set("by", values.get("by") ?? "day");
  document.getElementById("download-scores-csv").href = `/api/exports/scores.csv?${period}`;
}

document.addEventListener("DOMContentLoaded", () => {
  localizePeriods();
  const form = document.getElementById("export-form");
  form.addEventListener("input", exportLinks);
  form.addEventListener("submit", (event) => event.preventDefault());
  exportLinks();
});
