// The technicians' list of kiosks: where, online or not, heartbeat, outbox, version.
"use strict";

// Seconds with their unit as the page's language writes them: "1.5 sec", "1,5 sec", "1.5秒".
function seconds(value) {
  return new Intl.NumberFormat(Seed.lang(), {
    style: "unit", unit: "second", unitDisplay: "short", minimumFractionDigits: 1, maximumFractionDigits: 1,
  }).format(value);
}

// A version counter in the page's digits, without a thousands separator.
function counter(value) {
  return value === null || value === undefined ? "–" : new Intl.NumberFormat(Seed.lang(), { useGrouping: false }).format(value);
}

function fleetWords() {
  return {
    // Translators: a column heading: a kiosk online or offline
    state: Seed.t("State"),
    // Translators: a column heading: the kiosk's queue of answers not yet sent, and its size
    outbox: Seed.t("Outbox"),
    // Translators: a column heading: the kiosk's software version
    version: Seed.t("Version"),
    // Translators: a column heading: the kiosk's configuration, its version or its error
    config: Seed.t("Config"),
    // Translators: a kiosk's state: the hub hears from it
    online: Seed.t("online"),
    // Translators: a kiosk's state: the hub has not heard from it lately
    offline: Seed.t("offline"),
    // Translators: a kiosk whose credentials were withdrawn
    revoked: Seed.t("revoked"),
    cameras: {
      // Translators: a kiosk's camera: turned off
      off: Seed.t("off"),
      // Translators: a kiosk's camera: starting up
      starting: Seed.t("starting"),
      // Translators: a kiosk's camera: working
      ok: Seed.t("ok"),
      // Translators: a kiosk's camera: broken, with the kiosk's reason below
      fault: Seed.t("fault"),
    },
  };
}

// "12 / 1,000": the answers waiting to be sent, of how many the kiosk can hold.
function outbox(d) {
  if (d.outbox_depth === null) return "–";
  const values = { waiting: Seed.number(d.outbox_depth), capacity: d.outbox_capacity === null ? "?" : Seed.number(d.outbox_capacity) };
  // Translators: a kiosk's outbox: answers waiting to be sent, of how many it can hold
  return Seed.t("%(waiting)s / %(capacity)s", values);
}

// An admin's way to the kiosk's place's Camera panel: audience, approval, on and off.
function cameraLink(d) {
  if (!d.location || document.getElementById("fleet").dataset.cameraLinks !== "true") return null;
  return Seed.el("div", {}, Seed.el("a", { href: `/locations/${encodeURIComponent(d.location)}#camera`, class: "small" },
    // Translators: a link from a kiosk's camera state to its place's camera settings
    Seed.t("Camera settings")));
}

async function showFleet() {
  const devices = await Seed.get("/api/fleet");
  const words = fleetWords();
  const online = devices.filter((d) => d.online).length;
  document.getElementById("fleet-summary").textContent =
    Seed.t("%(count)s kiosks, %(online)s online, %(offline)s offline.", {
      count: Seed.number(devices.length), online: Seed.number(online), offline: Seed.number(devices.length - online),
    });
  document.querySelector("#fleet tbody").replaceChildren(...devices.map((d) => Seed.el("tr", { "data-device": d.device },
    Seed.el("td", { class: "primary", "data-label": Seed.t("Kiosk") }, d.device,
      d.revoked ? Seed.el("span", { class: "badge offline" }, ` ${words.revoked}`) : null),
    Seed.el("td", { "data-label": Seed.t("Location") }, d.location ?? "–"),
    Seed.el("td", { class: "lead", "data-label": words.state },
      Seed.el("span", { class: d.online ? "badge online" : "badge offline" }, d.online ? words.online : words.offline)),
    Seed.el("td", { "data-label": Seed.t("Last heartbeat") }, Seed.when(d.last_heartbeat)),
    Seed.el("td", { class: "num", "data-label": words.outbox }, outbox(d)),
    Seed.el("td", { class: "num", "data-label": Seed.t("Clock offset") },
      d.clock_offset_s === null ? "–" : seconds(d.clock_offset_s)),
    Seed.el("td", { "data-label": words.version }, d.version ?? "–"),
    Seed.el("td", { "data-label": Seed.t("Camera") }, d.camera === null ? "–" : words.cameras[d.camera] ?? d.camera,
      d.camera_fault ? Seed.el("div", { class: "error" }, d.camera_fault) : null, cameraLink(d)),
    Seed.el("td", { "data-label": words.config },
      d.config_error ? Seed.el("span", { class: "error" }, d.config_error) : counter(d.config_version)))));
}

document.addEventListener("DOMContentLoaded", () => {
  showFleet();
  setInterval(showFleet, 30000);
});
