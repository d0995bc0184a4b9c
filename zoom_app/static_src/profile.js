// The "Zoom" card of the profile page: connect (browser OAuth), disconnect, and a one-time
// link code for linking from inside the Zoom App. Added after the core's profile page drew
// itself: a platform script (sidecar/platforms/hookspecs.py, FrontEnd) built into
// zoom_app/static/profile.js, served at /static/platforms/zoom/profile.js on /me only. It
// imports nothing of the core: what it needs comes as `core` (web/README.md, "Platform scripts").

import { zoomApi } from "./api.js";

function codeBox({ h, setChildren }, { createLinkCode }) {
  const out = h("p", { class: "zoom-code", "aria-live": "polite" });
  const button = h(
    "button",
    {
      type: "button",
      class: "button",
      onclick: async () => {
        button.disabled = true;
        try {
          const made = await createLinkCode();
          setChildren(out, "Your code: ", h("strong", { class: "zoom-code-value" }, made.code), " (works once, for 10 minutes).");
        } catch (error) {
          out.textContent = error.message;
        } finally {
          button.disabled = false;
        }
      },
    },
    "Get a link code for Zoom",
  );
  return [button, out];
}

async function mountZoomCard(root, settings, core) {
  const { h, setChildren, ApiError } = core;
  const api = zoomApi(core.request);
  const { disconnectZoom, getMyZoom } = api;
  let status;
  try {
    status = await getMyZoom();
  } catch (error) {
    if (error instanceof ApiError) return; // signed out: the profile page says so already
    throw error;
  }
  if (!status.configured && !status.linked) return;
  const card = h("section", { id: "zoom", class: "card", "aria-labelledby": "zoom-heading" });
  const draw = () => {
    setChildren(
      card,
      h("h2", { id: "zoom-heading" }, "Zoom"),
      status.linked
        ? h("p", {}, "Connected", status.zoom_email ? ` as ${status.zoom_email}` : "", ". In a Zoom meeting, open Mentor Sidecar from Apps and the panel opens beside the call.")
        : h("p", { class: "section-intro" }, "Connect your Zoom account so Mentor Sidecar opens your panel inside Zoom meetings."),
      status.linked
        ? h(
            "button",
            {
              type: "button",
              class: "button button--quiet",
              onclick: async () => {
                await disconnectZoom();
                status = { ...status, linked: false, zoom_email: null };
                draw();
              },
            },
            "Disconnect Zoom",
          )
        : h("a", { class: "button button--primary", href: status.connect_url }, "Connect Zoom"),
      status.linked ? null : codeBox(core, api),
    );
  };
  draw();
  const footer = root.querySelector(":scope > footer, :scope > div:last-child");
  root.insertBefore(card, footer ?? null);
}

/** After the core's page of that name drew itself (web/src/platforms.js). */
export const after = { profile: mountZoomCard };
