// The tasks page: unresolved tasks with Acknowledge, Resolve and Add note; the form that opens
// a task by hand; recently resolved tasks with their recovery; the figures per team and place.
// Shared with the location page's Tasks panel: TaskText (times in a place's own time zone,
// durations, states and verdicts in words).
"use strict";

const TaskText = {
  // A moment in the place's own time zone: "23 Nov, 14:05 EET".
  when(iso, zone) {
    if (!iso) return "–";
    const options = { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" };
    try {
      return Seed.format({ ...options, timeZone: zone || "UTC" }).format(new Date(iso));
    } catch {
      return Seed.format(options).format(new Date(iso));
    }
  },

  // Minutes as a duration: "8 min", "1 h 05 min", "2 d 3 h".
  duration(minutes) {
    if (minutes === null || minutes === undefined || Number.isNaN(Number(minutes))) return "–";
    const total = Math.max(0, Math.round(Number(minutes)));
    if (total < 60) return Seed.t("%(minutes)s min", { minutes: Seed.number(total) });
    const hours = Math.floor(total / 60);
    if (hours < 48) {
      // Translators: a duration of hours and minutes, e.g. "1 h 05 min"
      return Seed.t("%(hours)s h %(minutes)s min", {
        hours: Seed.number(hours), minutes: Seed.format({ minimumIntegerDigits: 2 }).format(total % 60),
      });
    }
    // Translators: a duration of days and hours, e.g. "2 d 3 h"
    return Seed.t("%(days)s d %(hours)s h", { days: Seed.number(Math.floor(hours / 24)), hours: Seed.number(hours % 24) });
  },

  minutesSince(iso, until = Date.now()) {
    return (until - new Date(iso).getTime()) / 60000;
  },

  // A task's state as a badge: open, acknowledged, resolved, escalated.
  state(task) {
    const names = {
      // Translators: a task nobody has acknowledged yet
      open: Seed.t("open"),
      // Translators: a task someone is on the way to
      acknowledged: Seed.t("acknowledged"),
      // Translators: a task that is done
      resolved: Seed.t("resolved"),
    };
    return Seed.el("span", { class: `badge task-${task.state}` }, names[task.state] ?? task.state);
  },

  // Escalated and overdue badges, where they apply.
  flags(task) {
    return [
      // Translators: a badge: the task went to the escalation contact, its team having missed a target time
      task.escalated && task.state !== "resolved" ? Seed.el("span", { class: "badge task-escalated" }, Seed.t("escalated")) : null,
      // Translators: a badge: an unresolved task past its time to acknowledge or to resolve
      task.overdue ? Seed.el("span", { class: "badge task-overdue" }, Seed.t("overdue")) : null,
    ].filter(Boolean);
  },

  verdict(recovery) {
    const names = {
      recovered: Seed.t("recovered"),
      not_recovered: Seed.t("not recovered"),
      too_few: Seed.t("too few answers to tell"),
    };
    // Translators: a resolved task whose place has not yet been measured after the fix
    return Seed.el("span", { class: `badge recovery-${recovery ?? "pending"}` }, names[recovery] ?? Seed.t("not measured yet"));
  },

  // "60% → 10% (6 of 10 → 1 of 10)".
  shares(task) {
    if (!task.before || !task.after) return "–";
    // Translators: a resolved task's place had no answers in the windows before and after it
    if (!task.before.total && !task.after.total) return Seed.t("no answers before or after");
    const counts = (side) => Seed.t("%(unhappy)s of %(total)s", { unhappy: Seed.number(side.unhappy), total: Seed.number(side.total) });
    return Seed.t("%(before)s → %(after)s (%(before_counts)s → %(after_counts)s)", {
      before: Seed.percent(task.before.share), after: Seed.percent(task.after.share),
      before_counts: counts(task.before), after_counts: counts(task.after),
    });
  },

  // The hub's refusal in words: "Not accepted: task 3 is resolved already".
  async call(method, path, body) {
    const options = { method, headers: { Accept: "application/json" } };
    if (method !== "GET") {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRF-Token"] = Seed.csrf();
      options.body = JSON.stringify(body ?? {});
    }
    let response;
    try {
      response = await fetch(path, options);
    } catch {
      return { ok: false, status: 0, message: Seed.t("The hub did not answer; check the connection and try again.") };
    }
    const data = await response.json().catch(() => null);
    if (response.ok) return { ok: true, status: response.status, data };
    const detail = data?.detail;
    const text = typeof detail === "string" ? detail
      : Array.isArray(detail) ? detail.map((d) => d.msg).join("; ") : "";
    const why = { 400: Seed.t("Not done"), 403: Seed.t("Not allowed"), 404: Seed.t("Not found"), 422: Seed.t("Not accepted") }[response.status]
      ?? Seed.t("Refused (%(status)s)", { status: Seed.number(response.status) });
    return { ok: false, status: response.status, message: text ? Seed.t("%(refusal)s: %(detail)s", { refusal: why, detail: text }) : why };
  },
};

const Tasks = {
  location: null,
  teams: [],
  places: new Map(),

  suffix(first = "&") {
    return Tasks.location ? `${first}location=${encodeURIComponent(Tasks.location)}` : "";
  },

  say(text, ok = true, focus = false) {
    const box = document.getElementById("tasks-status");
    box.textContent = text;
    box.classList.toggle("refused", !ok);
    box.hidden = false;
    if (focus) box.focus();
  },

  async load() {
    await Promise.all([Tasks.loadTasks(), Tasks.loadFigures(), Tasks.loadForm()]);
  },

  async loadTasks() {
    const [open, done] = await Promise.all([
      TaskText.call("GET", `/api/tasks?state=unresolved&limit=500${Tasks.suffix()}`),
      TaskText.call("GET", `/api/tasks?state=resolved&limit=50${Tasks.suffix()}`),
    ]);
    const box = document.getElementById("tasks-unresolved");
    if (!open.ok || !done.ok) {
      box.replaceChildren(Seed.el("p", { class: "error" }, (open.ok ? done : open).message));
      return;
    }
    // The most pressing first: overdue or escalated, then the longest waiting.
    const pressing = (t) => (t.overdue || t.escalated ? 0 : 1);
    const unresolved = open.data.sort((a, b) => pressing(a) - pressing(b) || a.opened_at.localeCompare(b.opened_at));
    document.getElementById("unresolved-count").textContent = `(${Seed.number(unresolved.length)})`;
    box.replaceChildren(...(unresolved.length
      ? [Seed.el("ul", { class: "plain task-cards" }, ...unresolved.map((t) => Seed.el("li", {}, Tasks.card(t))))]
      : [Seed.el("p", { class: "muted" }, Seed.t("No unresolved tasks."))]));
    const resolved = done.data.sort((a, b) => b.resolved_at.localeCompare(a.resolved_at)).slice(0, 20);
    Tasks.fillResolved(resolved);
  },

  card(task) {
    const titleId = `task-${task.id}-title`;
    const note = Seed.el("input", { id: `task-${task.id}-note`, class: "task-note", maxlength: "1000", autocomplete: "off" });
    const button = (action, text, secondary) => {
      const node = Seed.el("button", { type: "button", class: `${action}${secondary ? " secondary" : ""}`, "data-task-id": task.id, "aria-describedby": titleId }, text);
      node.addEventListener("click", () => Tasks.act(task, action, note));
      return node;
    };
    const waited = TaskText.duration(TaskText.minutesSince(task.opened_at));
    const facts = [
      [Seed.t("Team"), task.team_name],
      // Translators: when a task was opened, how long ago, and by whom ("hub" for an alert)
      [Seed.t("Opened"), Seed.t("%(moment)s, %(age)s ago, by %(who)s", { moment: TaskText.when(task.opened_at, task.time_zone), age: waited, who: task.opened_by })],
      task.acknowledged_at
        ? [Seed.t("Acknowledged"), Seed.t("%(moment)s by %(who)s", { moment: TaskText.when(task.acknowledged_at, task.time_zone), who: task.acknowledged_by })]
        // Translators: the time by which a task should be acknowledged
        : [Seed.t("Acknowledge by"), TaskText.when(task.ack_due_at, task.time_zone)],
      // Translators: the time by which a task should be resolved
      [Seed.t("Resolve by"), TaskText.when(task.resolve_due_at, task.time_zone)],
      task.negative_share !== null
        // Translators: what travellers said before the task: the unhappy share of so many answers
        ? [Seed.t("Unhappy before"), Seed.t("%(share)s of %(count)s answers", { share: Seed.percent(task.negative_share), count: Seed.number(task.responses) })]
        : null,
    ].filter(Boolean);
    return Seed.el("article", { class: "card task", id: `task-${task.id}`, "data-task-id": task.id, "aria-labelledby": titleId },
      Seed.el("h3", { id: titleId, tabindex: "-1" },
        // Translators: a task's title: the place, and what needs doing
        Seed.t("%(place)s: %(title)s", { place: task.location_name, title: task.title })),
      Seed.el("p", { class: "task-badges" }, TaskText.state(task), ...TaskText.flags(task).flatMap((flag) => [" ", flag])),
      task.detail ? Seed.el("p", { class: "task-detail" }, task.detail) : null,
      Seed.el("dl", { class: "task-facts" }, ...facts.flatMap(([term, value]) => [Seed.el("dt", {}, term), Seed.el("dd", {}, value)])),
      Seed.el("div", { class: "comment-form" },
        Seed.el("label", { for: note.id },
          // Translators: label of the note field beside a task's buttons
          Seed.t("Note (sent with the button you press)"), note),
        task.acknowledged_at ? null : button("acknowledge", Seed.t("Acknowledge"), false),
        button("resolve", Seed.t("Resolve"), Boolean(!task.acknowledged_at)),
        button("notes", Seed.t("Add note"), true)));
  },

  async act(task, action, note) {
    const text = note.value.trim();
    if (action === "notes" && !text) {
      Tasks.say(Seed.t("Write the note first."), false);
      note.focus();
      return;
    }
    const answer = await TaskText.call("POST", `/api/tasks/${task.id}/${action}`, { note: text || null });
    if (!answer.ok) {
      Tasks.say(answer.message, false, true);
      return;
    }
    const place = { place: task.location_name, title: task.title };
    const done = {
      acknowledge: Seed.t("Acknowledged: %(place)s: %(title)s.", place),
      resolve: Seed.t("Resolved: %(place)s: %(title)s.", place),
      notes: Seed.t("Note added: %(place)s: %(title)s.", place),
    }[action];
    await Promise.all([Tasks.loadTasks(), Tasks.loadFigures()]);
    Tasks.say(done);
    // The focus stays with the task where it still stands, else goes to the message.
    const next = document.querySelector(`#task-${task.id} button.resolve`);
    if (next) next.focus();
    else document.getElementById("tasks-status").focus();
  },

  fillResolved(tasks) {
    const body = document.querySelector("#resolved tbody");
    if (!tasks.length) {
      body.replaceChildren(Seed.el("tr", {}, Seed.el("td", { colspan: "7", class: "muted" }, Seed.t("No task resolved yet."))));
      return;
    }
    body.replaceChildren(...tasks.map((t) => Seed.el("tr", { "data-task-id": t.id },
      Seed.el("td", { class: "primary" }, t.title),
      Seed.el("td", { "data-label": Seed.t("Place") }, t.location_name),
      Seed.el("td", { "data-label": Seed.t("Team") }, t.team_name),
      Seed.el("td", { "data-label": Seed.t("Resolved") },
        Seed.t("%(moment)s by %(who)s", { moment: TaskText.when(t.resolved_at, t.time_zone), who: t.resolved_by })),
      Seed.el("td", { class: "num", "data-label": Seed.t("Time to resolve") },
        TaskText.duration((new Date(t.resolved_at) - new Date(t.opened_at)) / 60000)),
      Seed.el("td", { class: "wide", "data-label": Seed.t("Unhappy before → after") }, TaskText.shares(t)),
      Seed.el("td", { "data-label": Seed.t("Recovery") }, TaskText.verdict(t.recovery)))));
  },

  async loadFigures() {
    const days = document.getElementById("days").value;
    const answer = await TaskText.call("GET", `/api/tasks/figures?days=${days}${Tasks.suffix()}`);
    const body = document.querySelector("#figures tbody");
    for (const [id, file] of [["tasks-csv", "tasks.csv"], ["figures-csv", "task-figures.csv"]]) {
      document.getElementById(id).href = `/api/exports/${file}?days=${days}${Tasks.suffix()}`;
    }
    if (!answer.ok) {
      body.replaceChildren(Seed.el("tr", {}, Seed.el("td", { colspan: "7", class: "error" }, answer.message)));
      return;
    }
    document.getElementById("figures-period").textContent =
      `${Seed.when(answer.data.period.since)} – ${Seed.when(answer.data.period.until)}`;
    body.replaceChildren(...(answer.data.rows.length
      ? Tasks.teamsFirst(answer.data.rows).map(Tasks.figureRow)
      : [Seed.el("tr", {}, Seed.el("td", { colspan: "7", class: "muted" }, Seed.t("No tasks in this period.")))]));
  },

  // Each team's total first, its places beneath it.
  teamsFirst(rows) {
    const ordered = [];
    let places = [];
    for (const row of rows) {
      if (row.location === null) {
        ordered.push(row, ...places);
        places = [];
      } else {
        places.push(row);
      }
    }
    return ordered;
  },

  figureRow(row) {
    const total = row.location === null;
    const name = total
      // Translators: a team's row over all its places in the figures table
      ? Seed.t("%(team)s, all places", { team: row.team_name })
      : row.location_name ?? row.location;
    const pair = (median, p90) => Seed.t("%(median)s · %(p90)s", { median: TaskText.duration(median), p90: TaskText.duration(p90) });
    const told = row.recovered + row.not_recovered;
    const recovered = told
      ? Seed.t("%(share)s (%(recovered)s of %(told)s)", { share: Seed.percent(row.recovered_share), recovered: Seed.number(row.recovered), told: Seed.number(told) })
      : "–";
    const tooFew = row.too_few ? Seed.t("%(count)s too few to tell", { count: Seed.number(row.too_few) }) : null;
    return Seed.el("tr", { class: total ? "team-total" : "team-place", "data-team": row.team, "data-location": row.location ?? "" },
      Seed.el("th", { scope: "row", class: "primary" }, name),
      Seed.el("td", { class: "num", "data-label": Seed.t("Tasks") }, Seed.number(row.tasks)),
      Seed.el("td", { class: "num", "data-label": Seed.t("To acknowledge (median · 90th)") }, pair(row.ack_median_min, row.ack_p90_min)),
      Seed.el("td", { class: "num", "data-label": Seed.t("To resolve (median · 90th)") }, pair(row.resolve_median_min, row.resolve_p90_min)),
      Seed.el("td", { class: "num", "data-label": Seed.t("Acknowledged in time") }, Seed.percent(row.ack_in_time)),
      Seed.el("td", { class: "num", "data-label": Seed.t("Resolved in time") }, Seed.percent(row.resolve_in_time)),
      Seed.el("td", { class: "num", "data-label": Seed.t("Recovered") }, recovered,
        tooFew ? Seed.el("span", { class: "small muted" }, tooFew) : null));
  },

  async loadForm() {
    const [teams, places] = await Promise.all([TaskText.call("GET", "/api/teams"), TaskText.call("GET", "/api/locations")]);
    const submit = document.getElementById("open-submit");
    if (!teams.ok || !places.ok) {
      Tasks.fieldError((teams.ok ? places : teams).message);
      submit.disabled = true;
      return;
    }
    Tasks.teams = teams.data;
    Tasks.places = new Map(places.data.map((p) => [p.location, p.name]));
    const select = document.getElementById("open-team");
    select.replaceChildren(...Tasks.teams.map((t) => Seed.el("option", { value: t.team }, t.name)));
    submit.disabled = Tasks.teams.length === 0;
    if (!Tasks.teams.length) Tasks.fieldError(Seed.t("No team looks after your places yet: an administrator adds teams."), false);
    Tasks.fillPlaces();
  },

  fillPlaces() {
    const team = Tasks.teams.find((t) => t.team === document.getElementById("open-team").value);
    const places = team?.places ?? [];
    const preferred = Tasks.location && places.includes(Tasks.location) ? Tasks.location : null;
    document.getElementById("open-location").replaceChildren(...places.map((p) =>
      Seed.el("option", { value: p, selected: p === preferred ? "" : null }, Tasks.places.get(p) ?? p)));
  },

  fieldError(text, mark = true) {
    const box = document.getElementById("open-error");
    const field = document.getElementById("open-title");
    box.textContent = text ?? "";
    box.hidden = !text;
    if (text && mark) field.setAttribute("aria-invalid", "true");
    else field.removeAttribute("aria-invalid");
  },

  async open(event) {
    event.preventDefault();
    const title = document.getElementById("open-title");
    if (!title.value.trim()) {
      Tasks.fieldError(Seed.t("Say what needs doing."));
      title.focus();
      return;
    }
    const body = {
      team: document.getElementById("open-team").value,
      location: document.getElementById("open-location").value,
      title: title.value.trim(),
    };
    const answer = await TaskText.call("POST", "/api/tasks", body);
    if (!answer.ok) {
      Tasks.fieldError(answer.message);
      title.focus();
      return;
    }
    Tasks.fieldError(null);
    title.value = "";
    await Promise.all([Tasks.loadTasks(), Tasks.loadFigures()]);
    Tasks.say(Seed.t("Task opened: %(place)s: %(title)s. The team is notified.", { place: answer.data.location_name, title: answer.data.title }));
    const heading = document.getElementById(`task-${answer.data.id}-title`);
    if (heading) heading.focus();
  },

  showPlace() {
    if (!Tasks.location) return;
    const box = document.getElementById("tasks-place");
    box.replaceChildren(
      Seed.t("Only %(place)s and the places beneath it.", { place: Tasks.places.get(Tasks.location) ?? Tasks.location }), " ",
      Seed.el("a", { href: "/tasks" }, Seed.t("Show all places")));
    box.hidden = false;
  },
};

document.addEventListener("DOMContentLoaded", async () => {
  if (!document.getElementById("open-form")) return; // the location page uses TaskText only
  Tasks.location = Seed.query().get("location");
  document.getElementById("days").addEventListener("change", Tasks.loadFigures);
  document.getElementById("open-team").addEventListener("change", Tasks.fillPlaces);
  document.getElementById("open-form").addEventListener("submit", Tasks.open);
  await Tasks.load();
  Tasks.showPlace();
});
