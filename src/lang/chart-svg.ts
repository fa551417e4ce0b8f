// A chart's Vega-Lite spec rendered to SVG in Node, with vega and vega-lite themselves (no
// browser, no canvas: Vega's SVG renderer only needs text measurement, which it estimates).
//
// Both packages are ES modules with top-level await, which `require()` cannot load
// (ERR_REQUIRE_ASYNC_MODULE, see DESIGN.md, Kernel): tslab compiles a cell's `import` into
// `require()`, so nothing a cell may import from arcuate can import them statically. They are
// loaded here, on the first chart, with a dynamic import().
import type { VegaLiteSpec } from "./chart.js";

type Renderers = { vega: typeof import("vega"); vegaLite: typeof import("vega-lite") };
let renderers: Promise<Renderers> | undefined;

function load(): Promise<Renderers> {
  renderers ??= Promise.all([import("vega"), import("vega-lite")]).then(([vega, vegaLite]) => ({
    vega,
    vegaLite,
  }));
  renderers.catch(() => {
    renderers = undefined;
  });
  return renderers;
}

/** The SVG document of a Vega-Lite spec. */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const { vega, vegaLite } = await load();
  const compiled = vegaLite.compile(spec as unknown as Parameters<typeof vegaLite.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
