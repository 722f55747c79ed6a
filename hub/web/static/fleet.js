// The technicians' list of kiosks: where, online or not, heartbeat, outbox, version.
"use strict";

async function showFleet() {
  const devices = await Seed.get("/api/fleet");
  const online = devices.filter((d) => d.online).length;
  document.getElementById("fleet-summary").textContent =
    `${devices.length} kiosks, ${online} online, ${devices.length - online} offline.`;
  document.querySelector("#fleet tbody").replaceChildren(...devices.map((d) => Seed.el("tr", { "data-device": d.device },
    Seed.el("td", { class: "primary", "data-label": "Kiosk" }, d.device,
      d.revoked ? Seed.el("span", { class: "badge offline" }, " revoked") : null),
    Seed.el("td", { "data-label": "Location" }, d.location ?? "–"),
    Seed.el("td", { class: "lead", "data-label": "State" },
      Seed.el("span", { class: d.online ? "badge online" : "badge offline" }, d.online ? "online" : "offline")),
    Seed.el("td", { "data-label": "Last heartbeat" }, Seed.when(d.last_heartbeat)),
    Seed.el("td", { class: "num", "data-label": "Outbox" },
      d.outbox_depth === null ? "–" : `${d.outbox_depth} / ${d.outbox_capacity ?? "?"}`),
    Seed.el("td", { class: "num", "data-label": "Clock offset" },
      d.clock_offset_s === null ? "–" : `${d.clock_offset_s.toFixed(1)} s`),
    Seed.el("td", { "data-label": "Version" }, d.version ?? "–"),
    Seed.el("td", { "data-label": "Camera" }, d.camera ?? "–",
      d.camera_fault ? Seed.el("div", { class: "error" }, d.camera_fault) : null),
    Seed.el("td", { "data-label": "Config" },
      d.config_error ? Seed.el("span", { class: "error" }, d.config_error) : (d.config_version ?? "–")))));
}

document.addEventListener("DOMContentLoaded", () => {
  showFleet();
  setInterval(showFleet, 30000);
});
