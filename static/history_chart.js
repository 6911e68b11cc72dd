/* The price and stock history chart (templates/common/_history_chart.html), shared by the
   product page and a watched offer's page: step lines per SKU and tier from #chart-data, and
   the market figures of a watched offer (#market-data, plain lines) where the page has them. */
document.addEventListener("DOMContentLoaded", function () {
  if (typeof echarts === "undefined") return;
  function read(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  function draw(id, series, money, step) {
    const node = document.getElementById(id);
    if (!node || !series || !series.length) return;
    const chart = echarts.init(node);
    chart.setOption({
      tooltip: { trigger: "axis", valueFormatter: v => money ? "¥" + Number(v).toFixed(2) : String(v) },
      legend: { type: "scroll", bottom: 0 },
      grid: { left: 56, right: 16, top: 16, bottom: 48 },
      xAxis: { type: "time" },
      yAxis: { type: "value", scale: true, axisLabel: { formatter: v => money ? "¥" + v : v } },
      series: series.map(s => ({
        name: s.name, type: "line", step: step ? "end" : false, showSymbol: step, data: s.data,
      })),
    });
    window.addEventListener("resize", () => chart.resize());
  }
  const history = read("chart-data");
  if (history) {
    draw("price-chart", history.price, true, true);
    draw("stock-chart", history.stock, false, true);
  }
  (read("market-data") || []).forEach(function (s, i) {
    draw("market-chart-" + (i + 1), [{ name: s.label, data: s.points }], false, false);
  });
});
