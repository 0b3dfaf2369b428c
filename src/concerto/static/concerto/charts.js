// Render every Vega-Lite chart on the page without eval, so the strict Content-Security-Policy holds.
// Markup: <div data-chart="spec-id"></div> plus {{ spec|json_script:"spec-id" }}; the table beside each
// chart carries the same figures for screen readers and for when JavaScript is off.
import { expressionInterpreter } from '../vendor/vega/vega-interpreter.js'

for (const element of document.querySelectorAll('[data-chart]')) {
  const source = document.getElementById(element.dataset.chart)
  if (!source) continue
  const spec = JSON.parse(source.textContent)
  // No injected <style> elements (CSP): the embed and tooltip styles come from charts.css.
  const options = { ast: true, expr: expressionInterpreter, actions: false, renderer: 'svg', defaultStyle: false, tooltip: { disableDefaultStyle: true } }
  window.vegaEmbed(element, spec, options)
    .catch((error) => { element.textContent = 'The chart could not be drawn; the table shows the same figures.'; console.error(error) })
}
