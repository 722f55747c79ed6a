// SVG charts drawn in the browser from the API's JSON: nothing is fetched from the internet.
"use strict";

const Charts = {
  NS: "http://www.w3.org/2000/svg",

  svg(width, height) {
    const svg = document.createElementNS(Charts.NS, "svg");
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.setAttribute("width", "100%");
    svg.setAttribute("role", "img");
    return svg;
  },

  add(parent, tag, attributes = {}, text = null) {
    const node = document.createElementNS(Charts.NS, tag);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (text !== null) node.textContent = text;
    parent.append(node);
    return node;
  },

  // Red at 0, amber at 50, green at 100: the Happy Index's colours.
  colour(index) {
    if (index === null || index === undefined) return "#eef1f5";
    const hue = Math.max(0, Math.min(120, (index / 100) * 120));
    return `hsl(${hue}, 62%, 48%)`;
  },

  // Happy Index per step (line, 0-100) over the responses (bars).
  trend(container, points, title) {
    const width = 720, height = 220, left = 36, bottom = 28, top = 12;
    const svg = Charts.svg(width, height);
    svg.setAttribute("aria-label", title);
    const plotHeight = height - top - bottom;
    const step = (width - left - 8) / Math.max(points.length, 1);
    const most = Math.max(1, ...points.map((p) => p.responses));
    for (const value of [0, 50, 100]) {
      const y = top + plotHeight * (1 - value / 100);
      Charts.add(svg, "line", { x1: left, x2: width - 8, y1: y, y2: y, stroke: "#d9dee6" });
      Charts.add(svg, "text", { x: 4, y: y + 4 }, value);
    }
    let path = "";
    points.forEach((point, i) => {
      const x = left + i * step;
      const barHeight = (plotHeight * point.responses) / most;
      const bar = Charts.add(svg, "rect", {
        x: x + step * 0.15, y: top + plotHeight - barHeight, width: step * 0.7,
        height: barHeight, fill: "#dde5f4",
      });
      Charts.add(bar, "title", {}, `${point.start}: ${point.responses} responses`);
      if (point.happy_index !== null) {
        const y = top + plotHeight * (1 - point.happy_index / 100);
        path += `${path ? "L" : "M"}${x + step / 2},${y}`;
        const dot = Charts.add(svg, "circle", {
          cx: x + step / 2, cy: y, r: 3, fill: Charts.colour(point.happy_index),
        });
        Charts.add(dot, "title", {}, `${point.start}: Happy Index ${point.happy_index}`);
      }
      if (i % Math.ceil(points.length / 8) === 0) {
        Charts.add(svg, "text", { x: x, y: height - 8 }, point.start.slice(5));
      }
    });
    if (path) Charts.add(svg, "path", { d: path, fill: "none", stroke: "#2457c5", "stroke-width": 2 });
    container.replaceChildren(svg);
  },

  // Hour of day (columns) by day of week (rows), coloured by Happy Index.
  heatmap(container, heatmap) {
    const days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const cell = 26, left = 38, top = 18;
    const svg = Charts.svg(left + 24 * cell + 4, top + 7 * cell + 4);
    svg.classList.add("heatmap");
    svg.setAttribute("aria-label", `Happy Index by hour and weekday (${heatmap.time_zone})`);
    for (let hour = 0; hour < 24; hour += 3) {
      Charts.add(svg, "text", { x: left + hour * cell + 2, y: 12 }, `${hour}h`);
    }
    heatmap.cells.forEach((row, weekday) => {
      Charts.add(svg, "text", { x: 2, y: top + weekday * cell + 17 }, days[weekday]);
      row.forEach((value, hour) => {
        const rect = Charts.add(svg, "rect", {
          x: left + hour * cell, y: top + weekday * cell, width: cell - 2, height: cell - 2,
          rx: 3, fill: Charts.colour(value.happy_index), class: "heat-cell",
        });
        const label = value.responses
          ? `${days[weekday]} ${hour}:00: Happy Index ${value.happy_index}, ${value.responses} responses`
          : `${days[weekday]} ${hour}:00: no responses`;
        Charts.add(rect, "title", {}, label);
      });
    });
    container.replaceChildren(svg);
  },

  // One horizontal bar per button.
  buttons(container, counts) {
    const names = [
      ["very_happy", "Very happy", 100], ["happy", "Happy", 67],
      ["unhappy", "Unhappy", 33], ["very_unhappy", "Very unhappy", 0],
    ];
    const total = Math.max(1, names.reduce((sum, [key]) => sum + counts[key], 0));
    const svg = Charts.svg(420, names.length * 28);
    names.forEach(([key, label, index], i) => {
      const share = counts[key] / total;
      Charts.add(svg, "text", { x: 0, y: i * 28 + 17 }, label);
      Charts.add(svg, "rect", {
        x: 96, y: i * 28 + 4, width: Math.max(1, share * 260), height: 18, rx: 3,
        fill: Charts.colour(index),
      });
      Charts.add(svg, "text", { x: 100 + share * 260, y: i * 28 + 17 },
        `${counts[key]} (${Math.round(share * 100)} %)`);
    });
    container.replaceChildren(svg);
  },

  // The cameras' strongest emotion categories, as bars of their mean score.
  emotions(container, emotions, shown = 8) {
    const entries = Object.entries(emotions).slice(0, shown);
    const most = Math.max(0.01, ...entries.map(([, score]) => score));
    const svg = Charts.svg(420, entries.length * 22);
    entries.forEach(([name, score], i) => {
      Charts.add(svg, "text", { x: 0, y: i * 22 + 15 }, name);
      Charts.add(svg, "rect", {
        x: 130, y: i * 22 + 4, width: Math.max(1, (score / most) * 230), height: 14, rx: 3,
        fill: "#7a8fd1",
      });
      Charts.add(svg, "text", { x: 134 + (score / most) * 230, y: i * 22 + 15 }, score.toFixed(2));
    });
    container.replaceChildren(svg);
  },
};
