// What main.js needs from the Zoom App: its pages, and the Zoom card on the profile page.

import { mountZoomCard } from "./profile-card.js";
import { renderZoom, renderZoomLink, renderZoomProblem } from "./pages.js";

export const ZOOM_PAGES = {
  zoom: renderZoom,
  "zoom-link": renderZoomLink,
  "zoom-problem": renderZoomProblem,
};

/** Zoom additions to other pages, after they rendered. */
export async function afterZoomRender(page, root) {
  if (page === "profile") await mountZoomCard(root);
}
