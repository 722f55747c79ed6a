// The location page's Camera panel (templates/camera_panel.html): who answers at the place,
// the approval that lets cameras run there, the notice to download, each kiosk's camera as the
// hub asks it and as the kiosk reports it, and the latest switches. An admin changes the
// audience, records or withdraws an approval and turns a kiosk's camera on or off with a
// reason for the audit log. Calls go through tasks.js's TaskText.call, so a refusal reads as
// it does elsewhere on the page.
"use strict";

const Camera = {
  id: null,
  admin: false,
  view: null,

  path(suffix) {
    return `/api/locations/${encodeURIComponent(Camera.id)}/${suffix}`;
  },

  say(text, ok = true, focus = false) {
    const box = document.getElementById("camera-status");
    box.textContent = text;
    box.classList.toggle("refused", !ok);
    box.hidden = false;
    if (focus) box.focus();
  },

  // An error under a field (or under a form, without `fieldId`), read with the field.
  fieldError(errorId, fieldId, text) {
    const box = document.getElementById(errorId);
    box.textContent = text ?? "";
    box.hidden = !text;
    const field = fieldId ? document.getElementById(fieldId) : null;
    if (field && text) field.setAttribute("aria-invalid", "true");
    else if (field) field.removeAttribute("aria-invalid");
  },

  audiences() {
    return {
      // Translators: a place's audience: travellers and other visitors
      public: Seed.t("The public"),
      // Translators: a place's audience: people at their workplace
      employees: Seed.t("Employees"),
      // Translators: a place's audience: a school, college or university
      education: Seed.t("Pupils or students"),
    };
  },

  // A kiosk's camera as the hub's remote config asks it.
  asked(enabled) {
    if (enabled === true) return Seed.t("on");
    if (enabled === false) return Seed.t("off");
    // Translators: the hub sends no camera setting: the kiosk's own kiosk.toml decides
    return Seed.t("as its own file says");
  },

  // A kiosk's camera as it last reported it.
  reported(state) {
    const names = { off: Seed.t("off"), starting: Seed.t("starting"), ok: Seed.t("ok"), fault: Seed.t("fault") };
    // Translators: a kiosk has not reported a camera (yet)
    return state ? names[state] ?? state : Seed.t("nothing yet");
  },
};

async function showCamera() {
  const answer = await TaskText.call("GET", Camera.path("camera"));
  if (!answer.ok) {
    document.getElementById("camera-audience").textContent = answer.message;
    return;
  }
  const first = Camera.view === null;
  Camera.view = answer.data;
  showAudience(answer.data);
  showApproval(answer.data, first);
  showNotice(answer.data);
  showCameraKiosks(answer.data);
  showSwitches(answer.data.recent);
}

// ---- Audience ---------------------------------------------------------------------------------
function showAudience(view) {
  const names = Camera.audiences();
  const name = names[view.effective_audience] ?? view.effective_audience;
  const line = view.audience_from === view.location ? name
    // Translators: a place's audience comes from a place above it, e.g. "Employees, as set for Terminal 2"
    : Seed.t("%(audience)s, as set for %(place)s", { audience: name, place: view.audience_from_name });
  document.getElementById("camera-audience").replaceChildren(Seed.el("strong", {}, line));
  const select = document.getElementById("camera-audience-select");
  if (select) select.value = view.audience;
}

async function saveAudience(event) {
  event.preventDefault();
  const audience = document.getElementById("camera-audience-select").value;
  const answer = await TaskText.call("PUT", Camera.path("audience"), { audience });
  if (!answer.ok) {
    Camera.fieldError("camera-audience-error", "camera-audience-select", answer.message);
    document.getElementById("camera-audience-select").focus();
    return;
  }
  Camera.fieldError("camera-audience-error", "camera-audience-select", null);
  const values = { audience: Camera.audiences()[audience] ?? audience, kiosks: answer.data.turned_off.join(", ") };
  Camera.say(answer.data.turned_off.length
    ? Seed.t("Audience saved: %(audience)s. Cameras turned off: %(kiosks)s.", values)
    : Seed.t("Audience saved: %(audience)s.", values), true, true);
  await showCamera();
}

// ---- Approval ---------------------------------------------------------------------------------
function showApproval(view, first) {
  const box = document.getElementById("camera-approval");
  const approval = view.approval;
  const form = document.getElementById("camera-approve-box");
  if (form && first) form.open = !approval;
  if (!approval) {
    box.replaceChildren(Seed.el("p", { class: "notice", id: "camera-no-approval" },
      Seed.el("strong", {}, Seed.t("No approval: cameras cannot be turned on here."))));
    return;
  }
  const fact = (term, value) => [Seed.el("dt", {}, term), Seed.el("dd", {}, value)];
  const facts = Seed.el("dl", { class: "task-facts", id: "camera-approval-facts" },
    ...fact(Seed.t("Approved by"), approval.approved_by),
    ...fact(Seed.t("Approved on"), Seed.day(approval.approved_on, { dateStyle: "medium", timeZone: "UTC" })),
    ...fact(Seed.t("Impact assessment"), approval.impact_assessment),
    // Translators: who runs the cameras at a place
    ...fact(Seed.t("Deployer"), approval.deployer_name),
    ...fact(Seed.t("Contact"), approval.deployer_contact),
    ...fact(Seed.t("Legal basis"), approval.legal_basis),
    // Translators: an approval recorded at a moment by a user
    ...fact(Seed.t("Recorded"), Seed.t("%(moment)s by %(who)s", { moment: Seed.when(approval.recorded_at), who: approval.recorded_by })));
  const inherited = approval.location === view.location ? null : Seed.el("p", { class: "muted small" },
    Seed.t("Recorded for %(place)s; it covers this place.", { place: approval.location_name }));
  const items = [facts, inherited];
  if (Camera.admin) {
    const withdraw = Seed.el("button", { type: "button", class: "secondary danger", "aria-describedby": "camera-approval-facts" },
      Seed.t("Withdraw approval…"));
    withdraw.addEventListener("click", () => confirmWithdraw(approval, withdraw));
    items.push(Seed.el("div", { class: "actions" }, withdraw));
  }
  box.replaceChildren(...items.filter(Boolean));
}

function confirmWithdraw(approval, opener) {
  Seed.confirm(document.getElementById("camera-withdraw-confirm"), {
    id: "camera-withdraw-question",
    title: Seed.t("Withdraw this approval?"),
    detail: Seed.t("The cameras it covers are turned off at once, unless another approval covers them, and each switch is logged."),
    yes: Seed.t("Yes, withdraw it"),
    no: Seed.t("Keep it"),
    opener,
    onYes: async () => {
      const answer = await TaskText.call("POST", `/api/camera-approvals/${approval.approval}/withdraw`);
      if (!answer.ok) {
        Camera.say(answer.message, false, true);
        return;
      }
      const off = answer.data.turned_off;
      Camera.say(off.length
        ? Seed.t("Approval withdrawn. Cameras turned off: %(kiosks)s.", { kiosks: off.join(", ") })
        : Seed.t("Approval withdrawn."), true, true);
      await showCamera();
    },
  });
}

const APPROVAL_FIELDS = ["approved_by", "impact_assessment", "approved_on", "deployer_name", "deployer_contact", "legal_basis"];

function today() {
  const now = new Date();
  return new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
}

async function recordApproval(event) {
  event.preventDefault();
  const form = event.target;
  const body = {};
  let firstWrong = null;
  for (const name of APPROVAL_FIELDS) {
    const id = `camera-approve-${name}`;
    const value = form.elements[name].value.trim();
    let problem = value ? null : Seed.t("Fill this in.");
    if (name === "approved_on" && value && value > today()) problem = Seed.t("The approval cannot be dated in the future.");
    Camera.fieldError(`${id}-error`, id, problem);
    if (problem && !firstWrong) firstWrong = form.elements[name];
    body[name] = value;
  }
  Camera.fieldError("camera-approve-error", null, null);
  if (firstWrong) {
    firstWrong.focus();
    return;
  }
  const answer = await TaskText.call("POST", Camera.path("camera-approvals"), body);
  if (!answer.ok) {
    Camera.fieldError("camera-approve-error", null, answer.message);
    document.getElementById("camera-approve-submit").focus();
    return;
  }
  form.reset();
  document.getElementById("camera-approve-box").open = false;
  Camera.say(Seed.t("Approval recorded: cameras may now be turned on here."), true, true);
  await showCamera();
}

// The notice is printed only where a camera may be on: elsewhere the hub refuses it.
function showNotice(view) {
  document.getElementById("camera-notice").hidden = !view.allowed;
  document.getElementById("camera-notice-none").hidden = view.allowed;
}

// ---- Kiosks -----------------------------------------------------------------------------------
function showCameraKiosks(view) {
  const refusal = document.getElementById("camera-refusal");
  refusal.textContent = view.refusal ? Seed.t("A camera cannot be turned on here: %(why)s", { why: view.refusal }) : "";
  refusal.hidden = !view.refusal;
  const list = document.getElementById("camera-kiosks");
  if (!view.kiosks.length) {
    list.replaceChildren(Seed.el("li", { class: "muted" }, Seed.t("No kiosk here.")));
    return;
  }
  list.replaceChildren(...view.kiosks.map((kiosk) => kioskItem(kiosk, view)));
}

function kioskItem(kiosk, view) {
  const nameId = `camera-kiosk-${kiosk.device}`;
  const place = kiosk.location !== view.location && kiosk.location_name
    ? Seed.el("span", { class: "muted" }, ` · ${kiosk.location_name}`) : null;
  const state = Seed.el("p", { class: "small" },
    // Translators: a kiosk's camera: what the hub asks (on, off) and what the kiosk reports (ok, off, fault)
    Seed.t("Camera asked: %(asked)s · reported: %(reported)s", { asked: Camera.asked(kiosk.camera_enabled), reported: Camera.reported(kiosk.camera) }),
    kiosk.camera_fault ? Seed.el("span", { class: "error" }, ` ${kiosk.camera_fault}`) : null);
  const item = Seed.el("li", { class: "camera-kiosk", "data-device": kiosk.device },
    Seed.el("p", { class: "camera-kiosk-name" }, Seed.el("strong", { id: nameId }, kiosk.device), place), state);
  if (Camera.admin) item.append(switchForm(kiosk, view, nameId));
  return item;
}

function switchForm(kiosk, view, nameId) {
  const reasonId = `camera-reason-${kiosk.device}`;
  const errorId = `camera-switch-error-${kiosk.device}`;
  const on = kiosk.camera_enabled === true;
  const buttons = [];
  if (view.allowed) {
    buttons.push(Seed.el("button", { type: "submit", value: "on", class: on ? "secondary" : null, "aria-describedby": `${nameId} ${errorId}` },
      Seed.t("Turn camera on")));
  }
  buttons.push(Seed.el("button", { type: "submit", value: "off", class: on ? null : "secondary", "aria-describedby": `${nameId} ${errorId}` },
    Seed.t("Turn camera off")));
  const form = Seed.el("form", { class: "camera-switch", novalidate: "" },
    Seed.el("label", { for: reasonId }, Seed.t("Reason, kept in the camera log (optional)")),
    Seed.el("input", { id: reasonId, name: "reason", maxlength: "500", autocomplete: "off", "aria-describedby": `${nameId} ${errorId}` }),
    Seed.el("div", { class: "actions" }, ...buttons),
    Seed.el("p", { class: "field-error", id: errorId, hidden: "" }));
  form.addEventListener("submit", (event) => switchCamera(event, kiosk.device, reasonId, errorId));
  return form;
}

async function switchCamera(event, device, reasonId, errorId) {
  event.preventDefault();
  const enabled = event.submitter?.value === "on";
  const reason = document.getElementById(reasonId).value.trim();
  const answer = await TaskText.call("POST", `/api/devices/${encodeURIComponent(device)}/camera`,
    { enabled, reason: reason || null });
  if (!answer.ok) {
    Camera.fieldError(errorId, reasonId, answer.message);
    document.getElementById(reasonId).focus();
    return;
  }
  Camera.say(enabled
    ? Seed.t("Camera of %(kiosk)s turned on: the kiosk starts it with its next config.", { kiosk: device })
    : Seed.t("Camera of %(kiosk)s turned off.", { kiosk: device }), true, true);
  await showCamera();
}

// ---- The latest switches -------------------------------------------------------------------
function showSwitches(entries) {
  const body = document.querySelector("#camera-log tbody");
  if (!entries.length) {
    body.replaceChildren(Seed.el("tr", {}, Seed.el("td", { colspan: "5", class: "muted" }, Seed.t("No camera has been switched here."))));
    return;
  }
  const actions = {
    on: Seed.t("on"),
    off: Seed.t("off"),
    // Translators: the camera log: the kiosk's own file decides again whether its camera is on
    default: Seed.t("as the kiosk's file says"),
    // Translators: the camera log: an approval for cameras was recorded
    approve: Seed.t("approval recorded"),
    // Translators: the camera log: an approval for cameras was withdrawn
    withdraw: Seed.t("approval withdrawn"),
    // Translators: the camera log: who answers at the place (public, employees, education) changed
    audience: Seed.t("audience changed"),
  };
  body.replaceChildren(...entries.map((entry) => Seed.el("tr", { "data-entry": entry.entry },
    Seed.el("td", { "data-label": Seed.t("When") }, Seed.when(entry.at)),
    Seed.el("td", { "data-label": Seed.t("Kiosk") }, entry.device),
    Seed.el("td", { "data-label": Seed.t("Switched") },
      Seed.el("span", { class: entry.action === "on" ? "badge online" : "badge retired" }, actions[entry.action] ?? entry.action)),
    Seed.el("td", { "data-label": Seed.t("By") }, entry.actor),
    Seed.el("td", { class: "wide", "data-label": Seed.t("Why") }, entry.reason))));
}

document.addEventListener("DOMContentLoaded", () => {
  const panel = document.getElementById("camera");
  if (!panel) return;
  Camera.id = document.getElementById("name").dataset.location;
  Camera.admin = panel.dataset.admin === "true";
  document.getElementById("camera-audience-form")?.addEventListener("submit", saveAudience);
  document.getElementById("camera-approve-form")?.addEventListener("submit", recordApproval);
  const date = document.getElementById("camera-approve-approved_on");
  if (date) date.max = today();
  showCamera();
});
