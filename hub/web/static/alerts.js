// The alerts page: open and acknowledged alerts, with Acknowledge and Comment controls.
"use strict";

const Alerts = {
  async load() {
    const location = Seed.query().get("location");
    const suffix = location ? `&location=${encodeURIComponent(location)}` : "";
    const [open, done] = await Promise.all([
      Seed.get(`/api/alerts?state=open${suffix}`),
      Seed.get(`/api/alerts?state=acknowledged${suffix}`),
    ]);
    Alerts.fill("alerts-open", open, "No open alerts.");
    Alerts.fill("alerts-acknowledged", done.slice(0, 50), "None yet.");
  },

  fill(id, alerts, empty) {
    const box = document.getElementById(id);
    box.replaceChildren(...(alerts.length ? alerts.map(Alerts.card) : [Seed.el("p", {}, empty)]));
  },

  card(alert) {
    const comments = Seed.el(
      "ul",
      { class: "comments" },
      ...alert.comments.map((c) => Seed.el("li", {}, `${c.author}, ${Seed.when(c.at)}: ${c.text}`)),
    );
    const text = Seed.el("input", { class: "comment-text", id: `comment-${alert.id}`, maxlength: "2000" });
    const comment = Seed.el("button", { type: "button", class: "comment secondary", "data-alert-id": alert.id }, "Add comment");
    comment.addEventListener("click", () => Alerts.act(alert.id, "comments", { text: text.value }));
    const acknowledged = alert.acknowledged_at
      ? Seed.el("p", {}, Seed.el("span", { class: "badge" }, "acknowledged"),
        ` by ${alert.acknowledged_by}, ${Seed.when(alert.acknowledged_at)}`)
      : null;
    const acknowledge = alert.acknowledged_at ? null : Alerts.ackButton(alert, text);
    return Seed.el(
      "article",
      { class: "card alert", id: `alert-${alert.id}`, "data-alert-id": alert.id },
      Seed.el("h3", {}, `${alert.location_name}: ${alert.message}`),
      Seed.el("p", { class: "muted" }, `${alert.rule_text} · opened ${Seed.when(alert.opened_at)}`),
      acknowledged,
      alert.comments.length ? comments : null,
      Seed.el("div", { class: "comment-form" },
        Seed.el("label", { for: `comment-${alert.id}` },
          acknowledge ? "Comment (sent with Acknowledge, or on its own)" : "Comment", text),
        comment,
        acknowledge),
    );
  },

  ackButton(alert, text) {
    const button = Seed.el(
      "button",
      { type: "button", class: "acknowledge", "data-alert-id": alert.id },
      "Acknowledge",
    );
    button.addEventListener("click", () =>
      Alerts.act(alert.id, "acknowledge", { comment: text.value || null }),
    );
    return button;
  },

  async act(id, action, body) {
    if (action === "comments" && !body.text) return;
    try {
      await Seed.post(`/api/alerts/${id}/${action}`, body);
      await Alerts.load();
    } catch (error) {
      const status = document.getElementById("alerts-status");
      status.textContent = `Not saved: ${error.message}`;
      status.hidden = false;
    }
  },
};

document.addEventListener("DOMContentLoaded", () => Alerts.load());
