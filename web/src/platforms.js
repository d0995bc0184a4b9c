// The call platforms' own scripts on this page (sidecar/platforms/hookspecs.py, FrontEnd): the
// service lists them in body[data-platform-scripts] (URLs under /static/platforms/<name>/), and
// main.js hands them here. Each is an ES module that imports nothing of the core; it may export
//   pages: {"<page name>": async (root, settings, core) => …}  draws that body[data-page]
//   panel(root, {...settings, meeting}, core)                runs after the meeting panel drew
//   after: {"<page name>": async (root, settings, core) => …}  runs after the core's page of
//                                                             that name drew itself (not panel)
// and gets `core` below (web/README.md, "Platform scripts"; docs/panel-contract.md).

import { notice, retryButton, topBar } from "./components/layout.js";
import { ApiError, request } from "./lib/api.js";
import { h, setChildren, setText } from "./lib/dom.js";
import { clearErrors, field, showErrors } from "./lib/forms.js";

/** Import the modules; one that fails to load is left out (and said), the page goes on. */
export async function loadPlatforms(urls) {
  const loaded = await Promise.allSettled(urls.map((url) => import(url)));
  const modules = loaded.flatMap((result, i) => {
    if (result.status === "fulfilled") return [result.value];
    console.error(`platform script ${urls[i]} could not be loaded: ${result.reason}`);
    return [];
  });

  /** After the panel drew itself (`drawn`: what renderPanel resolved to; none: it did not). */
  async function addToPanel(root, settings, drawn) {
    if (!drawn) return;
    const info = { ...settings, meeting: drawn.meeting };
    for (const module of modules) {
      if (typeof module.panel === "function") await module.panel(root, info, core);
    }
  }

  /** What a platform's script gets from the core. */
  const core = {
    request,
    ApiError,
    h,
    setChildren,
    setText,
    notice,
    retryButton,
    topBar,
    field,
    clearErrors,
    showErrors,
    /** The meeting panel into `root` (as on /meetings/{id}), every platform's `panel` after. */
    async renderPanel(root, settings) {
      const { renderPanel } = await import("./pages/panel.js");
      const drawn = await renderPanel(root, settings);
      await addToPanel(root, settings, drawn);
      return drawn;
    },
  };

  return {
    /** After the core's own page `name` drew itself: the `panel` hooks, or `after[name]`. */
    async afterPage(name, root, settings, drawn) {
      if (name === "panel") return addToPanel(root, settings, drawn);
      for (const module of modules) {
        const extend = module.after?.[name];
        if (typeof extend === "function") await extend(root, settings, core);
      }
    },
    /** A platform's renderer for this page name, if one draws it. */
    page(name) {
      const render = modules.map((m) => m.pages?.[name]).find((f) => typeof f === "function");
      return render ? (root, settings) => render(root, settings, core) : null;
    },
  };
}
