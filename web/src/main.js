// Entry point, the only script a page names. The service renders page.html with
// body[data-page] (panel | agreement | profile | home | invite | signed-out | jitsi | zoom…) and
// the ids the page needs. Each page's code is its own chunk, imported here on demand, so a light
// page never downloads the notes editor (CodeMirror, Yjs), the Jitsi call or the Zoom SDK.

import { notice, retryButton } from "./components/layout.js";
import { setChildren } from "./lib/dom.js";

const signedOut = () => import("./pages/signed-out.js").then((m) => m.renderSignedOut);
const zoom = (name) => () => import("./zoom/pages.js").then((m) => m[name]);

/** Page name → a promise of its renderer. */
const PAGES = {
  panel: () => import("./pages/panel.js").then((m) => m.renderPanel),
  home: () => import("./pages/home.js").then((m) => m.renderHome),
  invite: () => import("./pages/invite.js").then((m) => m.renderInvite),
  agreement: () => import("./pages/agreement.js").then((m) => m.renderAgreement),
  profile: () => import("./pages/profile.js").then((m) => m.renderProfile),
  "signed-out": signedOut,
  "link-used": signedOut,
  "after-signout": signedOut,
  "not-found": signedOut,
  signin: signedOut,
  jitsi: () => import("./jitsi/call.js").then((m) => m.renderJitsi),
  zoom: zoom("renderZoom"),
  "zoom-link": zoom("renderZoomLink"),
  "zoom-problem": zoom("renderZoomProblem"),
};

/** Zoom additions to other pages, after they rendered. */
async function afterRender(page, root) {
  if (page === "profile") await (await import("./zoom/profile-card.js")).mountZoomCard(root);
}

async function start() {
  const body = document.body;
  const root = document.getElementById("app");
  const settings = {
    page: body.dataset.page ?? "",
    meetingId: body.dataset.meetingId ?? "",
    mentorshipId: body.dataset.mentorshipId ?? "",
    inviteCode: body.dataset.inviteCode ?? "",
    cspNonce: body.dataset.cspNonce ?? "",
  };
  const load = PAGES[settings.page] ?? signedOut;
  try {
    const render = await load();
    await render(root, settings);
    await afterRender(settings.page, root);
    body.dataset.state = "ready";
  } catch (error) {
    setChildren(
      root,
      notice({
        title: "Something went wrong",
        body: error?.message ?? String(error),
        action: retryButton(),
        tone: "error",
      }),
    );
    body.dataset.state = "error";
  } finally {
    root.removeAttribute("aria-busy");
  }
}

start();
