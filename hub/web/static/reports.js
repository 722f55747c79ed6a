// The reports page: keep the CSV download links in step with the form.
"use strict";

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
  const form = document.getElementById("export-form");
  form.addEventListener("input", exportLinks);
  form.addEventListener("submit", (event) => event.preventDefault());
  exportLinks();
});
