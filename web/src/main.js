// Entry point: one bundle for every page. The service renders page.html with
// body[data-page] (panel | agreement | profile | home | invite | signed-out | jitsi | zoom…) and the ids the page needs.

import { notice, retryButton } from "./components/layout.js";
import { renderJitsi } from "./jitsi/call.js";
import { setChildren } from "./lib/dom.js";
import { renderAgreement } from "./pages/agreement.js";
import { renderHome } from "./pages/home.js";
import { renderInvite } from "./pages/invite.js";
import { renderPanel } from "./pages/panel.js";
import { renderProfile } from "./pages/profile.js";
import { renderSignedOut } from "./pages/signed-out.js";
import { ZOOM_PAGES, afterZoomRender } from "./zoom/index.js";

const PAGES = {
  panel: renderPanel,
  home: renderHome,
  invite: renderInvite,
  agreement: renderAgreement,
  profile: renderProfile,
  "signed-out": renderSignedOut,
  "link-used": renderSignedOut,
  "after-signout": renderSignedOut,
  "not-found": renderSignedOut,
  signin: renderSignedOut,
  jitsi: renderJitsi,
  ...ZOOM_PAGES,
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
  const render = PAGES[settings.page] ?? renderSignedOut;
  try {
    await render(root, settings);
    await afterZoomRender(settings.page, root);
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
