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
    Alerts.fill("alerts-open", open, Seed.t("No open alerts."));
    // Translators: under the heading "Acknowledged", when no alert has been acknowledged
    Alerts.fill("alerts-acknowledged", done.slice(0, 50), Seed.t("None yet."));
  },

  fill(id, alerts, empty) {
    const box = document.getElementById(id);
    box.replaceChildren(...(alerts.length ? alerts.map(Alerts.card) : [Seed.el("p", {}, empty)]));
  },

  card(alert) {
    const comments = Seed.el(
      "ul",
      { class: "comments" },
      ...alert.comments.map((c) => Seed.el("li", {},
        // Translators: one comment on an alert: who wrote it, when, and what
        Seed.t("%(author)s, %(moment)s: %(text)s", { author: c.author, moment: Seed.when(c.at), text: c.text }))),
    );
    const text = Seed.el("input", { class: "comment-text", id: `comment-${alert.id}`, maxlength: "2000" });
    const comment = Seed.el("button", { type: "button", class: "comment secondary", "data-alert-id": alert.id },
      Seed.t("Add comment"));
    comment.addEventListener("click", () => Alerts.act(alert.id, "comments", { text: text.value }));
    const acknowledged = alert.acknowledged_at ? Alerts.acknowledgement(alert) : null;
    const acknowledge = alert.acknowledged_at ? null : Alerts.ackButton(alert, text);
    return Seed.el(
      "article",
      { class: "card alert", id: `alert-${alert.id}`, "data-alert-id": alert.id },
      // Translators: an alert's title: the place, and the alert's message (which stays in English)
      Seed.el("h3", {}, Seed.t("%(place)s: %(message)s", { place: alert.location_name, message: alert.message })),
      Seed.el("p", { class: "muted" },
        // Translators: under an alert's title: the rule that raised it (in English) and when
        Seed.t("%(rule)s · opened %(moment)s", { rule: alert.rule_text, moment: Seed.when(alert.opened_at) })),
      acknowledged,
      alert.comments.length ? comments : null,
      Seed.el("div", { class: "comment-form" },
        Seed.el("label", { for: `comment-${alert.id}` },
          acknowledge
            // Translators: label of the comment field; "Acknowledge" is the button next to it
            ? Seed.t("Comment (sent with Acknowledge, or on its own)")
            // Translators: label of the comment field (a noun)
            : Seed.t("Comment"),
          text),
        comment,
        acknowledge),
    );
  },

  // "acknowledged by ana, 1 Dec 2026, 09:12", the state as a badge inside the sentence.
  acknowledgement(alert) {
    const marker = "\u0000";
    const values = { state: marker, user: alert.acknowledged_by, moment: Seed.when(alert.acknowledged_at) };
    // Translators: %(state)s is the badge "acknowledged"; then who acknowledged the alert, and when
    const sentence = Seed.t("%(state)s by %(user)s, %(moment)s", values);
    const [before, ...after] = sentence.split(marker);
    // Translators: the badge of an alert someone has acknowledged
    const badge = Seed.el("span", { class: "badge" }, Seed.t("acknowledged"));
    return Seed.el("p", {}, before || null, badge, after.join("") || null);
  },

  ackButton(alert, text) {
    const button = Seed.el(
      "button",
      { type: "button", class: "acknowledge", "data-alert-id": alert.id },
      // Translators: the button that marks an alert as seen and handled
      Seed.t("Acknowledge"),
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
      status.textContent = Seed.t("Not saved: %(error)s", { error: error.message });
      status.hidden = false;
    }
  },
};

document.addEventListener("DOMContentLoaded", () => Alerts.load());
