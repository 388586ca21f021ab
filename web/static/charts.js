// Dashboard and price-history charts (ECharts, vendored). Data comes from /api/dashboard.
(function () {
  "use strict";
  function bar(el, pairs, horizontal) {
    const c = echarts.init(el);
    const names = pairs.map(function (p) { return p[0]; }), vals = pairs.map(function (p) { return p[1]; });
    c.setOption({
      animation: false,
      grid: { left: horizontal ? 110 : 40, right: 16, top: 16, bottom: 30 },
      tooltip: { trigger: "axis" },
      xAxis: horizontal ? { type: "value" } : { type: "category", data: names },
      yAxis: horizontal ? { type: "category", data: names.slice().reverse(), axisLabel: { width: 100, overflow: "truncate", interval: 0 } } : { type: "value" },
      series: [{ type: horizontal || pairs.length < 3 ? "bar" : "line", barMaxWidth: 28, data: horizontal ? vals.slice().reverse() : vals, itemStyle: { color: "#b4231c" }, areaStyle: horizontal ? undefined : { opacity: 0.15 } }],
    });
  }
  const box = document.getElementById("charts");
  if (box) {
    fetch(box.dataset.src, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (d) {
      bar(document.getElementById("c-per_day"), d.per_day, false);
      bar(document.getElementById("c-per_platform"), d.per_platform, true);
      bar(document.getElementById("c-per_mark"), d.per_mark, true);
      bar(document.getElementById("c-per_enterprise"), d.per_enterprise, true);
      const c = echarts.init(document.getElementById("c-confirmation"));
      c.setOption({
        animation: false,
        title: { text: d.confirmation.rate === null ? "—" : Math.round(d.confirmation.rate * 100) + "%", left: "center", top: "middle" },
        tooltip: { trigger: "item" },
        series: [{ type: "pie", radius: ["50%", "72%"], label: { formatter: "{b}: {c}" },
          data: [{ name: d.labels.confirm, value: d.confirmation.confirmed, itemStyle: { color: "#b4231c" } },
                 { name: d.labels.dismiss, value: d.confirmation.dismissed, itemStyle: { color: "#9aa4b1" } }] }],
      });
    });
  }
  const h = document.getElementById("history-chart");
  if (h) {
    const s = JSON.parse(h.dataset.series);
    const c = echarts.init(h);
    c.setOption({
      animation: false,
      grid: { left: 50, right: 50, top: 20, bottom: 30 }, tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: s.map(function (p) { return p[0]; }) },
      yAxis: [{ type: "value", name: "¥" }, { type: "value", name: "sales" }],
      series: [{ type: "line", data: s.map(function (p) { return p[1]; }), itemStyle: { color: "#b4231c" } },
               { type: "bar", yAxisIndex: 1, data: s.map(function (p) { return p[2]; }), itemStyle: { color: "#9aa4b1" } }],
    });
  }
})();
