// The pages of someone who is not (or no longer) signed in, each saying how to get back in:
//   signed-out     a member's page opened without a session (401)
//   link-used      a sign-in link that has been used or has expired (404)
//   after-signout  where "Sign out" lands
//   not-found      a page that is not there, or not yours (404)
//   signin         an emailed sign-in link: a button that signs in on this device (POST), so a
//                  mail scanner that opens every link does not use it up

import { notice, topBar } from "../components/layout.js";
import { signinRequestForm } from "../components/signin-request.js";
import { h, setChildren } from "../lib/dom.js";

const WAY_BACK =
  "Every email Mentor Sidecar sends you (agendas, reminders, summaries) has a link that signs you in on the device where you open it. Or have a new link sent to you:";

const PAGES = {
  "signed-out": {
    title: "This page opens from your personal link",
    body: [
      "Mentor Sidecar has no passwords: you sign in with a link, once on each device.",
      WAY_BACK,
    ],
  },
  "link-used": {
    title: "This sign-in link has been used or has expired",
    body: [
      "Each sign-in link works once, and only for a while, so that an old email cannot let someone else in.",
      WAY_BACK,
    ],
  },
  "after-signout": {
    title: "You are signed out",
    body: [
      "This device is signed out. Your other devices stay signed in; you can sign them out from your profile.",
      "To come back, open the link in any email from Mentor Sidecar, or have a new sign-in link sent to you:",
    ],
  },
};

function signinCard(page) {
  const form = signinRequestForm({ heading: null });
  return h(
    "div",
    { class: "notice signin-notice", dataset: { reason: page } },
    h("h1", { class: "notice-title" }, PAGES[page].title),
    PAGES[page].body.map((text) => h("p", {}, text)),
    form,
  );
}

function notFound() {
  return notice({
    title: "Nothing to show here",
    body: [
      "This page does not exist, or it belongs to a mentorship you are not part of.",
      h("a", { href: "/" }, "Go to your mentorships"),
    ],
  });
}

/** The Sign in button of a link sent by email: a plain form that POSTs to the same address. */
function signinButton() {
  const target = window.location.pathname + window.location.search;
  const button = h("button", { type: "submit", class: "button button--primary signin-button" }, "Sign in");
  const form = h(
    "form",
    { method: "post", action: target, class: "signin-press" },
    button,
  );
  form.addEventListener("submit", () => {
    // The browser sends the form itself; a second press would find the link used.
    window.setTimeout(() => {
      button.disabled = true;
    }, 0);
  });
  return h(
    "div",
    { class: "notice signin-notice", dataset: { reason: "signin" } },
    h("h1", { class: "notice-title" }, "Sign in to Mentor Sidecar"),
    h("p", {}, "Press Sign in to sign in on this device and go on to your mentorship."),
    form,
    h(
      "p",
      { class: "hint" },
      "Why a button? Email security scanners open every link in a message; this one works once, and the button keeps them from using it up before you do.",
    ),
  );
}

export function renderSignedOut(root, settings = {}) {
  root.classList.add("app--narrow");
  const page = settings.page ?? "signed-out";
  let content;
  if (page === "signin") content = signinButton();
  else if (page === "not-found") content = notFound();
  else content = signinCard(PAGES[page] ? page : "signed-out");
  setChildren(root, topBar(), content);
}
