// Entry point, the only script a page names. The service renders page.html with
// body[data-page] (panel | agreement | profile | home | invite | signed-out | a platform's page)
// and the ids the page needs. Each page's code is its own chunk, imported here on demand, so a
// light page never downloads the notes editor (CodeMirror, Yjs).
//
// Call platforms bring their own scripts (sidecar/platforms/hookspecs.py, FrontEnd): the
// service lists the page's in body[data-platform-scripts]; they are imported here, may draw a
// page of their own (`pages`), add to the meeting panel (`panel`) or to another of the core's
// pages once it drew itself (`after`, e.g. a card on the profile page).

import { notice, retryButton } from "./components/layout.js";
import { setChildren } from "./lib/dom.js";

const signedOut = () => import("./pages/signed-out.js").then((m) => m.renderSignedOut);

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
};

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
  try {
    const urls = (body.dataset.platformScripts ?? "").split(" ").filter(Boolean);
    const own = PAGES[settings.page];
    // The page's own code and the platforms' scripts load side by side; only a page with
    // platform scripts downloads the code that loads them (platforms.js).
    const [ownRender, platforms] = await Promise.all([
      own?.(),
      urls.length ? import("./platforms.js").then((m) => m.loadPlatforms(urls)) : null,
    ]);
    const render = ownRender ?? platforms?.page(settings.page) ?? (await signedOut());
    const drawn = await render(root, settings);
    if (ownRender) await platforms?.afterPage(settings.page, root, settings, drawn);
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
