// SVG charts drawn in the browser from the API's JSON: nothing is fetched from the internet.
//
// Every chart is drawn at the width its box has (one SVG unit = one CSS pixel, so its text is
// as large on a phone as on a desktop) and drawn again when that width changes. Every chart
// has a text alternative: a summary in its aria-label and, beside it, a table of its numbers
// behind a "Show the numbers" disclosure. Colours never carry meaning alone: each chart has a
// legend and axis titles, and the numbers are in the table.
//
// Words, numbers, weekdays and months follow the page's language (Seed.t, Seed.number, Intl);
// the plots themselves run left to right on every page (time, 0 to 100), right to left ones
// included: the SVG keeps `direction: ltr`, while the legends and tables around it follow the
// page.
"use strict";

const Charts = {
  NS: "http://www.w3.org/2000/svg",

  // The Happy Index's scale, red at 0 through yellow at 50 to green at 100 (ColorBrewer's
  // RdYlGn, the middle darkened a little so that it shows on white). INK[i] is the text colour
  // that reads on SCALE[i] at 4.5:1 or better; style.css has the same bands as .hi-0 … .hi-10.
  SCALE: ["#a50026", "#c62a28", "#f46d43", "#fdae61", "#fee08b", "#f7f3a1",
    "#d9ef8b", "#a6d96a", "#66bd63", "#2f9e55", "#006837"],
  EMPTY: "#eef1f5",

  band(index) {
    return Math.max(0, Math.min(10, Math.round(Number(index) / 10)));
  },

  colour(index) {
    return index === null || index === undefined ? Charts.EMPTY : Charts.SCALE[Charts.band(index)];
  },

  // The class of an element coloured by the Happy Index (background and readable text).
  bandClass(index) {
    return index === null || index === undefined ? "hi-none" : `hi-${Charts.band(index)}`;
  },

  svg(width, height, label) {
    const svg = document.createElementNS(Charts.NS, "svg");
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", label);
    svg.setAttribute("direction", "ltr"); // style.css says so too: axes never mirror
    svg.classList.add("chart-svg");
    return svg;
  },

  // The weekdays, Monday first, as the page's language writes them ("short" or "long").
  weekdays(style = "short") {
    return Array.from({ length: 7 }, (_, i) =>
      Seed.format({ weekday: style, timeZone: "UTC" }).format(new Date(Date.UTC(2024, 0, 1 + i))));
  },

  // An hour of the day: "09:00" on an axis (padded), "9:00" in a sentence, in the language's
  // digits.
  hour(hour, padded = false) {
    if (padded) {
      return Seed.format({ hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: "UTC" })
        .format(new Date(Date.UTC(2024, 0, 1, hour)));
    }
    return `${Seed.number(hour)}:${Seed.format({ minimumIntegerDigits: 2 }).format(0)}`;
  },

  // A number on an axis: whole numbers bare, others with one decimal.
  tick(value) {
    return Seed.number(value, Number.isInteger(value) ? 0 : 1);
  },

  // "a, b and c" as the page's language lists things.
  list(items) {
    return typeof Intl.ListFormat === "function"
      ? new Intl.ListFormat(Seed.lang(), { style: "long", type: "conjunction" }).format(items)
      : items.join(", ");
  },

  // How wide the widest of these texts is drawn (px), to make room for a label column: the
  // words of some languages are longer than the English ones.
  textWidth(texts, size = 12, weight = 400) {
    if (!Charts.canvas) Charts.canvas = document.createElement("canvas");
    const context = Charts.canvas.getContext("2d");
    if (!context) return 0;
    context.font = `${weight} ${size}px ${getComputedStyle(document.body).fontFamily || "sans-serif"}`;
    return Math.ceil(Math.max(0, ...texts.map((text) => context.measureText(String(text)).width)));
  },

  // The four buttons, in the page's language.
  buttonNames() {
    return {
      very_happy: Seed.t("Very happy"),
      happy: Seed.t("Happy"),
      unhappy: Seed.t("Unhappy"),
      very_unhappy: Seed.t("Very unhappy"),
    };
  },

  // The 26 EMOTIC categories (protocol/emotions.py's EMOTIC_CATEGORIES, the keys of the
  // location JSON's `summary.observed.emotions`), in the page's language.
  emotionNames: null,
  emotion(name) {
    if (!Charts.emotionNames) {
      Charts.emotionNames = {
        // Translators: the 26 EMOTIC emotion categories (Kosti et al., 2019), as the cameras read them
        Affection: Seed.t("Affection"),
        Anger: Seed.t("Anger"),
        Annoyance: Seed.t("Annoyance"),
        Anticipation: Seed.t("Anticipation"),
        Aversion: Seed.t("Aversion"),
        Confidence: Seed.t("Confidence"),
        Disapproval: Seed.t("Disapproval"),
        Disconnection: Seed.t("Disconnection"),
        Disquietment: Seed.t("Disquietment"),
        "Doubt/Confusion": Seed.t("Doubt/Confusion"),
        Embarrassment: Seed.t("Embarrassment"),
        Engagement: Seed.t("Engagement"),
        Esteem: Seed.t("Esteem"),
        Excitement: Seed.t("Excitement"),
        Fatigue: Seed.t("Fatigue"),
        Fear: Seed.t("Fear"),
        Happiness: Seed.t("Happiness"),
        Pain: Seed.t("Pain"),
        Peace: Seed.t("Peace"),
        Pleasure: Seed.t("Pleasure"),
        Sadness: Seed.t("Sadness"),
        Sensitivity: Seed.t("Sensitivity"),
        Suffering: Seed.t("Suffering"),
        Surprise: Seed.t("Surprise"),
        Sympathy: Seed.t("Sympathy"),
        Yearning: Seed.t("Yearning"),
      };
    }
    return Charts.emotionNames[name] ?? name;
  },

  add(parent, tag, attributes = {}, text = null) {
    const node = document.createElementNS(Charts.NS, tag);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (text !== null) node.textContent = text;
    parent.append(node);
    return node;
  },

  html(tag, attributes = {}, ...children) {
    return Seed.el(tag, attributes, ...children); // app.js, which every page loads first
  },

  // The width a chart in this box is drawn at.
  widthOf(container, fallback = 720) {
    return Math.max(280, Math.floor(container.clientWidth || fallback));
  },

  // Draw now, and again whenever the box's width changes (a phone turned, a window resized).
  drawn: new Map(),
  keep(container, draw) {
    Charts.drawn.set(container, { draw, width: container.clientWidth });
    if (!Charts.listening) {
      Charts.listening = true;
      window.addEventListener("resize", Charts.redraw);
    }
  },
  redraw() {
    for (const [container, entry] of Charts.drawn) {
      if (!container.isConnected) {
        Charts.drawn.delete(container);
      } else if (container.clientWidth !== entry.width) {
        entry.draw();
      }
    }
  },

  // A smiley whose mouth follows the Happy Index, in its colour; decorative (the number and
  // the words beside it say the same).
  face(index, size = 64) {
    const svg = document.createElementNS(Charts.NS, "svg");
    svg.setAttribute("viewBox", "0 0 64 64");
    svg.setAttribute("width", size);
    svg.setAttribute("height", size);
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.classList.add("face");
    const known = index !== null && index !== undefined;
    const ink = known && [0, 1, 10].includes(Charts.band(index)) ? "#fff" : "#1d2430";
    Charts.add(svg, "circle", {
      cx: 32, cy: 32, r: 29, fill: Charts.colour(index), stroke: "#1d2430", "stroke-width": 2.5,
    });
    Charts.add(svg, "circle", { cx: 22, cy: 25, r: 3.6, fill: ink });
    Charts.add(svg, "circle", { cx: 42, cy: 25, r: 3.6, fill: ink });
    if (known) {
      const bend = ((Number(index) - 50) / 50) * 11; // -11 (frown) … +11 (smile)
      Charts.add(svg, "path", {
        d: `M18,${42 - bend / 3} Q32,${42 + bend} 46,${42 - bend / 3}`,
        fill: "none", stroke: ink, "stroke-width": 3.2, "stroke-linecap": "round",
      });
    } else {
      Charts.add(svg, "line", { x1: 20, x2: 44, y1: 43, y2: 43, stroke: ink, "stroke-width": 3 });
    }
    return svg;
  },

  // The scale 0-100 with a marker at the index: how far from red, how near green.
  gauge(index) {
    const box = Charts.html("div", { class: "gauge", "aria-hidden": "true" });
    const bar = Charts.html("div", { class: "scale-bar" });
    if (index !== null && index !== undefined) {
      const marker = Charts.html("span", { class: "gauge-marker" });
      marker.style.insetInlineStart = `${Math.max(0, Math.min(100, Number(index)))}%`;
      bar.append(marker);
    }
    box.append(bar, Charts.html("div", { class: "scale-ticks" },
      Charts.html("span", {}, Seed.number(0)), Charts.html("span", {}, Seed.number(50)),
      Charts.html("span", {}, Seed.number(100))));
    return box;
  },

  // The legend of the Happy Index's colours, for the heat map and the trend's dots.
  scaleLegend(withEmpty = true) {
    return Charts.html("div", { class: "legend" },
      Charts.html("span", { class: "legend-item" }, Seed.t("Happy Index"),
        Charts.html("span", { class: "legend-scale" },
          Charts.html("span", {}, Seed.number(0)), Charts.html("span", { class: "scale-bar small" }),
          Charts.html("span", {}, Seed.number(100)))),
      withEmpty
        ? Charts.html("span", { class: "legend-item" },
          Charts.html("span", { class: "swatch empty" }), Seed.t("no responses"))
        : null);
  },

  // The numbers behind a chart, as a table a screen reader (or anyone) can read.
  table(caption, head, rows) {
    const table = Charts.html("table", { class: "grid data" },
      Charts.html("caption", { class: "visually-hidden" }, caption),
      Charts.html("thead", {}, Charts.html("tr", {}, ...head.map((h, i) =>
        Charts.html("th", { scope: "col", class: i ? "num" : null }, h)))),
      Charts.html("tbody", {}, ...rows.map((row) => Charts.html("tr", {}, ...row.map((cell, i) =>
        i ? Charts.html("td", { class: "num" }, cell) : Charts.html("th", { scope: "row" }, cell))))));
    return Charts.html("details", { class: "numbers" },
      Charts.html("summary", {}, Seed.t("Show the numbers")),
      Charts.html("div", { class: "scroll-x" }, table));
  },

  // A trend point's day, week or month, in the page's language (and its calendar).
  label(date, step) {
    const [y, m, d] = String(date).split("-").map(Number);
    const day = new Date(Date.UTC(y, m - 1, d));
    const options = step === "month"
      ? { month: "short", year: "numeric", timeZone: "UTC" }
      : { month: "short", day: "numeric", timeZone: "UTC" };
    return Seed.format(options).format(day);
  },

  // The name of a trend's step, for its axis and its table.
  stepName(step) {
    return {
      // Translators: a trend's axis and table column, by day
      day: Seed.t("Day"),
      // Translators: a trend's axis and table column, by week: the week's first day
      week: Seed.t("Week starting"),
      // Translators: a trend's axis and table column, by month
      month: Seed.t("Month"),
    }[step] ?? "";
  },

  // Happy Index per step (line and dots, left axis 0-100) over the responses (bars, right axis).
  // `changes`: the days (ISO dates) the survey's question changed, marked on the plot.
  trend(container, points, title, step = "day", changes = []) {
    const draw = () => Charts.drawTrend(container, points, title, step, changes);
    draw();
    Charts.keep(container, draw);
  },

  drawTrend(container, points, title, step, changes = []) {
    const width = Charts.widthOf(container);
    const narrow = width < 520;
    const height = narrow ? 240 : 280;
    const left = 52, right = 50, top = 14, bottom = 48;
    const plotWidth = width - left - right, plotHeight = height - top - bottom;
    const scored = points.filter((p) => p.happy_index !== null && p.happy_index !== undefined);
    const total = points.reduce((sum, p) => sum + p.responses, 0);
    let summary = Seed.t("%(title)s: no responses in this period.", { title });
    if (scored.length) {
      const low = scored.reduce((a, b) => (b.happy_index < a.happy_index ? b : a));
      const high = scored.reduce((a, b) => (b.happy_index > a.happy_index ? b : a));
      const last = scored[scored.length - 1];
      summary = Seed.t("%(title)s, %(first)s to %(last)s: lowest %(lowest)s (%(lowest_at)s), highest %(highest)s (%(highest_at)s), latest %(latest)s; responses in all: %(responses)s.", {
          title,
          first: Charts.label(points[0].start, step),
          last: Charts.label(points[points.length - 1].start, step),
          lowest: Seed.number(low.happy_index), lowest_at: Charts.label(low.start, step),
          highest: Seed.number(high.happy_index), highest_at: Charts.label(high.start, step),
          latest: Seed.number(last.happy_index),
          responses: Seed.number(total),
        });
    }
    const svg = Charts.svg(width, height, summary);
    const most = Math.max(1, ...points.map((p) => p.responses));
    const niceMost = Charts.nice(most);
    const y = (value) => top + plotHeight * (1 - value / 100);
    // the colour key along the left axis, then the grid and both axes' numbers
    Charts.SCALE.forEach((colour, i) => {
      const upper = Math.min(100, i * 10 + 5), lower = Math.max(0, i * 10 - 5);
      Charts.add(svg, "rect", { x: left - 7, y: y(upper), width: 5, height: y(lower) - y(upper), fill: colour });
    });
    for (const value of [0, 25, 50, 75, 100]) {
      Charts.add(svg, "line", {
        x1: left, x2: left + plotWidth, y1: y(value), y2: y(value),
        stroke: value % 50 ? "#edf0f4" : "#d9dee6",
      });
      Charts.add(svg, "text", { x: left - 11, y: y(value) + 4, "text-anchor": "end" }, Seed.number(value));
      if (value % 50 === 0) {
        Charts.add(svg, "text", { x: left + plotWidth + 6, y: y(value) + 4, class: "secondary" },
          Charts.tick((niceMost * value) / 100));
      }
    }
    Charts.add(svg, "text", {
      x: 0, y: 0, transform: `translate(13 ${top + plotHeight / 2}) rotate(-90)`,
      "text-anchor": "middle", class: "axis-title",
    }, Seed.t("Happy Index"));
    Charts.add(svg, "text", {
      x: 0, y: 0, transform: `translate(${width - 6} ${top + plotHeight / 2}) rotate(-90)`,
      "text-anchor": "middle", class: "axis-title secondary",
    }, Seed.t("Responses"));
    Charts.add(svg, "text", {
      x: left + plotWidth / 2, y: height - 4, "text-anchor": "middle", class: "axis-title",
    }, Charts.stepName(step));
    const slot = plotWidth / Math.max(points.length, 1);
    const every = Math.max(1, Math.ceil(points.length / Math.max(1, Math.floor(plotWidth / 64))));
    let path = "";
    const dots = [];
    points.forEach((point, i) => {
      const x = left + i * slot;
      const barHeight = (plotHeight * point.responses) / niceMost;
      const bar = Charts.add(svg, "rect", {
        x: x + slot * 0.18, y: top + plotHeight - barHeight, width: Math.max(1, slot * 0.64),
        height: barHeight, fill: "#cfd8ea", class: "bar",
      });
      Charts.add(bar, "title", {}, Seed.t("%(when)s: responses: %(responses)s", {
        when: Charts.label(point.start, step), responses: Seed.number(point.responses),
      }));
      if (point.happy_index !== null && point.happy_index !== undefined) {
        const cy = y(point.happy_index);
        path += `${path ? "L" : "M"}${x + slot / 2},${cy}`;
        dots.push([x + slot / 2, cy, point]);
      }
      if (i % every === 0) {
        Charts.add(svg, "text", { x: x + slot / 2, y: top + plotHeight + 18, "text-anchor": "middle" },
          Charts.label(point.start, step));
      }
    });
    Charts.add(svg, "line", {
      x1: left, x2: left + plotWidth, y1: top + plotHeight, y2: top + plotHeight, stroke: "#5d6776",
    });
    if (path) Charts.add(svg, "path", { d: path, fill: "none", stroke: "#1d3f8f", "stroke-width": 2.5 });
    for (const [cx, cy, point] of dots) {
      const dot = Charts.add(svg, "circle", {
        cx, cy, r: narrow ? 4 : 5, fill: Charts.colour(point.happy_index), stroke: "#1d2430", "stroke-width": 1.2,
      });
      Charts.add(dot, "title", {}, Seed.t("%(when)s: Happy Index %(index)s, responses: %(responses)s", {
        when: Charts.label(point.start, step), index: Seed.number(point.happy_index),
        responses: Seed.number(point.responses),
      }));
    }
    const marked = Charts.markChanges(svg, points, changes, { left, top, slot, plotHeight });
    const legend = Charts.html("div", { class: "legend" },
      Charts.html("span", { class: "legend-item" }, Charts.html("span", { class: "swatch line" }),
        Seed.t("Happy Index (left axis, %(low)s–%(high)s); each dot in its colour", {
          low: Seed.number(0), high: Seed.number(100),
        })),
      Charts.html("span", { class: "legend-item" }, Charts.html("span", { class: "swatch bar" }),
        Seed.t("Responses (right axis)")),
      marked.length ? Charts.changeLegend(marked, step) : null);
    const rows = points.map((p) => [Charts.label(p.start, step),
      p.happy_index === null || p.happy_index === undefined ? "–" : Seed.number(p.happy_index),
      Seed.number(p.responses)]);
    container.replaceChildren(legend, svg, Charts.table(summary,
      [Charts.stepName(step === "week" || step === "month" ? step : "day"), Seed.t("Happy Index"),
        Seed.t("Responses")], rows));
  },

  // The steps in which the survey's question changed: a dashed line at each one's start.
  // Returns the steps marked (their start dates).
  markChanges(svg, points, changes, { left, top, slot, plotHeight }) {
    const marked = [];
    for (const change of [...new Set(changes)].sort()) {
      const i = points.findLastIndex((p) => String(p.start) <= change);
      if (i < 0 || (i === points.length - 1 && Charts.after(points[i].start, change))) continue;
      if (marked.includes(points[i].start)) continue;
      marked.push(points[i].start);
      const x = left + i * slot;
      Charts.add(svg, "line", {
        x1: x, x2: x, y1: top, y2: top + plotHeight, stroke: "#1d2430", "stroke-width": 1.5,
        "stroke-dasharray": "4 3", class: "question-changed",
      });
    }
    return marked;
  },

  // Whether a change lies more than a month after a step's start (beyond the last step).
  after(start, change) {
    return (Date.parse(change) - Date.parse(start)) / 86400000 > 31;
  },

  changeLegend(marked, step) {
    return Charts.html("span", { class: "legend-item" }, Charts.html("span", { class: "swatch changed" }),
      Seed.t("The survey's question changed: %(when)s", {
        when: Charts.list(marked.map((start) => Charts.label(start, step))),
      }));
  },

  // The top reasons' share of the answers, by day (by week over longer periods), with the
  // days the question changed. `group`: one question of the location JSON's reasons, with
  // its `trend` ([{start, answered, options: {key: count}, question_changed}]) and `top`.
  reasonTrend(container, group, nameOf) {
    const draw = () => Charts.drawReasonTrend(container, group, nameOf);
    draw();
    Charts.keep(container, draw);
  },

  drawReasonTrend(container, group, nameOf) {
    const weekly = group.trend.length > 35;
    const points = weekly ? Charts.byWeek(group.trend) : group.trend;
    const step = weekly ? "week" : "day";
    const keys = (group.top?.length ? group.top : group.options.map((o) => o.option)).slice(0, 3);
    if (!points.length || !keys.length) {
      container.replaceChildren();
      return;
    }
    const width = Charts.widthOf(container);
    const height = 170, left = 44, right = 12, top = 10, bottom = 30;
    const plotWidth = width - left - right, plotHeight = height - top - bottom;
    const share = (point, key) => (point.answered ? (point.options[key] ?? 0) / point.answered : null);
    const summary = Seed.t("Share of the answers for %(reasons)s, by %(step)s, %(first)s to %(last)s.", {
      reasons: Charts.list(keys.map(nameOf)),
      step: Charts.stepName(step).toLocaleLowerCase(Seed.lang()),
      first: Charts.label(points[0].start, step),
      last: Charts.label(points[points.length - 1].start, step),
    });
    const svg = Charts.svg(width, height, summary);
    const y = (value) => top + plotHeight * (1 - value);
    for (const value of [0, 0.5, 1]) {
      Charts.add(svg, "line", {
        x1: left, x2: left + plotWidth, y1: y(value), y2: y(value), stroke: value ? "#edf0f4" : "#5d6776",
      });
      Charts.add(svg, "text", { x: left - 6, y: y(value) + 4, "text-anchor": "end" }, Seed.percent(value));
    }
    const slot = plotWidth / points.length;
    const every = Math.max(1, Math.ceil(points.length / Math.max(1, Math.floor(plotWidth / 64))));
    points.forEach((point, i) => {
      if (i % every === 0) {
        Charts.add(svg, "text", { x: left + (i + 0.5) * slot, y: height - 8, "text-anchor": "middle" },
          Charts.label(point.start, step));
      }
    });
    const changes = points.filter((p) => p.question_changed).map((p) => String(p.start));
    const marked = Charts.markChanges(svg, points, changes, { left, top, slot, plotHeight });
    keys.forEach((key, k) => {
      let path = "";
      points.forEach((point, i) => {
        const value = share(point, key);
        if (value === null) return;
        path += `${path ? "L" : "M"}${left + (i + 0.5) * slot},${y(value)}`;
      });
      Charts.add(svg, "path", {
        d: path, fill: "none", stroke: Charts.REASON_INK[k], "stroke-width": 2.5,
        "stroke-dasharray": Charts.REASON_DASH[k],
      });
    });
    const legend = Charts.html("div", { class: "legend" },
      ...keys.map((key, k) => Charts.html("span", { class: "legend-item" },
        Charts.html("span", { class: `swatch reason-line reason-line-${k}` }), nameOf(key))),
      marked.length ? Charts.changeLegend(marked, step) : null);
    const rows = points.map((p) => [Charts.label(p.start, step),
      ...keys.map((key) => Seed.percent(share(p, key))), Seed.number(p.answered)]);
    container.replaceChildren(legend, svg, Charts.table(summary,
      [Charts.stepName(step), ...keys.map(nameOf), Seed.t("Answered")], rows));
  },

  // Three lines told apart by colour and by dash (colour never carries meaning alone).
  REASON_INK: ["#1d3f8f", "#a3400b", "#146c3c"],
  REASON_DASH: ["none", "7 4", "2 3"],

  // Days summed into weeks starting on Monday: {start, answered, options, question_changed}.
  byWeek(days) {
    const weeks = new Map();
    for (const day of days) {
      const [y, m, d] = String(day.start).split("-").map(Number);
      const date = new Date(Date.UTC(y, m - 1, d));
      date.setUTCDate(date.getUTCDate() - ((date.getUTCDay() + 6) % 7));
      const start = date.toISOString().slice(0, 10);
      const week = weeks.get(start) ?? { start, answered: 0, options: {}, question_changed: false };
      week.answered += day.answered;
      for (const [key, count] of Object.entries(day.options)) week.options[key] = (week.options[key] ?? 0) + count;
      week.question_changed ||= Boolean(day.question_changed);
      weeks.set(start, week);
    }
    return [...weeks.values()].sort((a, b) => (a.start < b.start ? -1 : 1));
  },

  // A round number at or above `value`, for an axis's top.
  nice(value) {
    const magnitude = 10 ** Math.floor(Math.log10(value));
    for (const m of [1, 2, 2.5, 5, 10]) if (value <= m * magnitude) return m * magnitude;
    return 10 * magnitude;
  },

  // Hour of day (columns) by day of week (rows), coloured by Happy Index.
  heatmap(container, heatmap) {
    const draw = () => Charts.drawHeatmap(container, heatmap);
    draw();
    Charts.keep(container, draw);
  },

  drawHeatmap(container, heatmap) {
    const days = Charts.weekdays("short");
    const longDays = Charts.weekdays("long");
    const width = Charts.widthOf(container, 700);
    // On a narrow screen 24 columns would be slivers: the hours run down and the days across.
    const upright = width < 560;
    let best = null, worst = null;
    heatmap.cells.forEach((row, weekday) => row.forEach((value, hour) => {
      if (!value.responses || value.happy_index === null) return;
      if (!best || value.happy_index > best[0]) best = [value.happy_index, weekday, hour];
      if (!worst || value.happy_index < worst[0]) worst = [value.happy_index, weekday, hour];
    }));
    const summary = best
      ? Seed.t("Happy Index by hour and weekday (%(zone)s): best %(best)s on %(best_day)s at %(best_hour)s, worst %(worst)s on %(worst_day)s at %(worst_hour)s.", {
        zone: heatmap.time_zone,
        best: Seed.number(best[0]), best_day: longDays[best[1]], best_hour: Charts.hour(best[2]),
        worst: Seed.number(worst[0]), worst_day: longDays[worst[1]], worst_hour: Charts.hour(worst[2]),
      })
      : Seed.t("Happy Index by hour and weekday (%(zone)s): no responses in this period.", {
        zone: heatmap.time_zone,
      });
    const hourLabel = (hour) => Charts.hour(hour, true);
    let svg, place;
    if (upright) {
      const left = Math.max(46, Charts.textWidth([hourLabel(0), hourLabel(20)]) + 6), top = 22, cellHeight = 19;
      const cellWidth = Math.min(56, (width - left - 2) / 7);
      svg = Charts.svg(Math.ceil(left + 7 * cellWidth + 2), top + 24 * cellHeight + 4, summary);
      // the weekdays across the top, in their narrowest form where the short one is too wide
      const heads = Charts.textWidth(days) > cellWidth - 4 ? Charts.weekdays("narrow") : days;
      heads.forEach((day, weekday) => Charts.add(svg, "text", {
        x: left + weekday * cellWidth + (cellWidth - 2) / 2, y: 14, "text-anchor": "middle",
      }, day));
      // Translators: the heat map's axis of the hours of the day, on a phone
      Charts.add(svg, "text", { x: 0, y: 14, class: "axis-title" }, Seed.t("Hour"));
      for (let hour = 0; hour < 24; hour += 2) {
        Charts.add(svg, "text", { x: 0, y: top + hour * cellHeight + cellHeight / 2 + 4 }, hourLabel(hour));
      }
      place = (weekday, hour) => [left + weekday * cellWidth, top + hour * cellHeight, cellWidth - 2, cellHeight - 2];
    } else {
      const left = Math.max(42, Charts.textWidth(days) + 8), top = 22, bottom = 34, cellHeight = 28;
      const cellWidth = Math.min(52, (width - left - 4) / 24);
      const height = top + 7 * cellHeight + bottom;
      svg = Charts.svg(Math.ceil(left + 24 * cellWidth + 4), height, summary);
      for (let hour = 0; hour < 24; hour += cellWidth < 30 ? 3 : 2) {
        Charts.add(svg, "text", { x: left + hour * cellWidth + 1, y: 14 }, hourLabel(hour));
      }
      days.forEach((day, weekday) => Charts.add(svg, "text", {
        x: 2, y: top + weekday * cellHeight + cellHeight / 2 + 4,
      }, day));
      Charts.add(svg, "text", {
        x: left + (24 * cellWidth) / 2, y: height - 6, "text-anchor": "middle", class: "axis-title",
      }, Seed.t("Hour of day, local time"));
      place = (weekday, hour) => [left + hour * cellWidth, top + weekday * cellHeight, cellWidth - 2, cellHeight - 2];
    }
    svg.classList.add("heatmap");
    heatmap.cells.forEach((row, weekday) => {
      row.forEach((value, hour) => {
        const [x, y, w, h] = place(weekday, hour);
        const filled = value.responses && value.happy_index !== null;
        const rect = Charts.add(svg, "rect", {
          x, y, width: Math.max(1, w), height: h, rx: 3,
          fill: filled ? Charts.colour(value.happy_index) : Charts.EMPTY,
          class: filled ? "heat-cell filled" : "heat-cell",
        });
        const label = value.responses
          ? Seed.t("%(day)s %(hour)s: Happy Index %(index)s, responses: %(responses)s", {
            day: days[weekday], hour: Charts.hour(hour),
            index: Seed.number(value.happy_index), responses: Seed.number(value.responses),
          })
          : Seed.t("%(day)s %(hour)s: no responses", { day: days[weekday], hour: Charts.hour(hour) });
        Charts.add(rect, "title", {}, label);
      });
    });
    const head = [Seed.t("Weekday"), ...Array.from({ length: 24 }, (_, h) => Charts.hour(h))];
    const rows = heatmap.cells.map((row, weekday) => [longDays[weekday],
      ...row.map((v) => (v.responses && v.happy_index !== null
        ? `${Seed.number(v.happy_index)} (${Seed.number(v.responses)})` : "–"))]);
    container.replaceChildren(Charts.scaleLegend(), Charts.html("div", { class: "scroll-x" }, svg),
      Charts.table(Seed.t("%(summary)s Each cell: Happy Index (responses).", { summary }), head, rows));
  },

  // One horizontal bar per button: its share of the responses.
  buttons(container, counts) {
    const draw = () => Charts.drawButtons(container, counts);
    draw();
    Charts.keep(container, draw);
  },

  drawButtons(container, counts) {
    const words = Charts.buttonNames();
    const names = [
      ["very_happy", words.very_happy, 100], ["happy", words.happy, 67],
      ["unhappy", words.unhappy, 33], ["very_unhappy", words.very_unhappy, 0],
    ];
    const sum = names.reduce((s, [key]) => s + counts[key], 0);
    const total = Math.max(1, sum);
    const width = Charts.widthOf(container, 420);
    // On a phone each button's name and count stand above a bar as wide as the card.
    const narrow = width < 440;
    // the names' column: as wide as the longest name needs (some languages' are long)
    const room = Math.min(width - 96 - 120, Math.max(124, 28 + Charts.textWidth(names.map(([, label]) => label), 13) + 8));
    const row = narrow ? 46 : 34, left = narrow ? 0 : room, right = narrow ? 2 : 96, top = 6, bottom = 36;
    const barTop = narrow ? 24 : 5;
    const plot = width - left - right;
    const height = top + names.length * row + bottom;
    const share = (key) => Seed.percent(counts[key] / total);
    const summary = Seed.t("Buttons pressed (responses: %(responses)s): %(buttons)s.", {
      responses: Seed.number(sum),
      buttons: Charts.list(names.map(([key, label]) => `${label} ${Seed.number(counts[key])} (${share(key)})`)),
    });
    const svg = Charts.svg(width, height, summary);
    for (const part of [0, 0.25, 0.5, 0.75, 1]) {
      const x = left + part * plot;
      Charts.add(svg, "line", {
        x1: x, x2: x, y1: top + (narrow ? barTop - 2 : 0), y2: top + names.length * row, stroke: "#e3e7ee",
      });
      if (!narrow || part % 0.5 === 0) {
        const anchor = narrow && part === 0 ? "start" : narrow && part === 1 ? "end" : "middle";
        Charts.add(svg, "text", { x, y: top + names.length * row + 14, "text-anchor": anchor }, Seed.percent(part));
      }
    }
    names.forEach(([key, label, index], i) => {
      const part = counts[key] / total;
      const face = Charts.face(index, 22);
      face.setAttribute("x", 0);
      face.setAttribute("y", top + i * row + (narrow ? 0 : 4));
      svg.append(face);
      const textY = top + i * row + (narrow ? 16 : 20);
      Charts.add(svg, "text", { x: 28, y: textY, class: "label" }, label);
      Charts.add(svg, "rect", {
        x: left, y: top + i * row + barTop, width: Math.max(2, part * plot), height: narrow ? 14 : 20, rx: 3,
        fill: Charts.colour(index), stroke: "#1d2430", "stroke-opacity": 0.25,
      });
      Charts.add(svg, "text", { x: width - 2, y: textY, class: "value", "text-anchor": "end" },
        `${Seed.number(counts[key])} (${share(key)})`);
    });
    Charts.add(svg, "text", { x: left + plot / 2, y: height - 4, "text-anchor": "middle", class: "axis-title" },
      Seed.t("Share of responses"));
    container.replaceChildren(svg, Charts.table(summary, [Seed.t("Button"), Seed.t("Responses"), Seed.t("Share")],
      names.map(([key, label]) => [label, Seed.number(counts[key]), share(key)])));
  },

  // The cameras' strongest emotion categories, as bars of their mean score.
  emotions(container, emotions, shown = 8) {
    const draw = () => Charts.drawEmotions(container, emotions, shown);
    draw();
    Charts.keep(container, draw);
  },

  drawEmotions(container, emotions, shown) {
    // the API's keys are EMOTIC's English category names: shown in the page's language
    const entries = Object.entries(emotions).slice(0, shown).map(([name, score]) => [Charts.emotion(name), score]);
    const most = Math.max(0.01, ...entries.map(([, score]) => score));
    const width = Charts.widthOf(container, 420);
    const row = 26, right = 48, bottom = 34;
    // the names' column: as wide as the longest name needs, leaving the bars room
    const left = Math.min(width - right - 100,
      Math.max(width < 440 ? 108 : 128, Charts.textWidth(entries.map(([name]) => name), 13) + 10));
    const plot = width - left - right;
    const height = entries.length * row + bottom;
    const summary = Seed.t("The cameras' strongest readings (mean score %(low)s–%(high)s): %(readings)s.", {
      low: Seed.number(0), high: Seed.number(1),
      readings: Charts.list(entries.map(([name, score]) => `${name} ${Seed.number(score, 2)}`)),
    });
    const svg = Charts.svg(width, height, summary);
    entries.forEach(([name, score], i) => {
      Charts.add(svg, "text", { x: 0, y: i * row + 17, class: "label" }, name);
      Charts.add(svg, "rect", {
        x: left, y: i * row + 4, width: Math.max(1, (score / most) * plot), height: 16, rx: 3,
        fill: "#6f86cc",
      });
      Charts.add(svg, "text", { x: left + (score / most) * plot + 5, y: i * row + 17, class: "value" },
        Seed.number(score, 2));
    });
    Charts.add(svg, "text", { x: left, y: entries.length * row + 12 }, Seed.number(0));
    Charts.add(svg, "text", { x: left + plot, y: entries.length * row + 12, "text-anchor": "end" },
      Seed.number(most, 2));
    Charts.add(svg, "text", { x: left + plot / 2, y: height - 4, "text-anchor": "middle", class: "axis-title" },
      Seed.t("Mean score of the category"));
    container.replaceChildren(svg, Charts.table(summary, [Seed.t("Category"), Seed.t("Mean score")],
      entries.map(([name, score]) => [name, Seed.number(score, 2)])));
  },
};
