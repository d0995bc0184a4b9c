// The invite page (body[data-page=invite]): who invites you and as what, a form about you,
// accept, then continue through the one-time sign-in link.

import { notice, topBar } from "../components/layout.js";
import { personFields } from "../components/person-fields.js";
import { ApiError, acceptInvite, getInvite, getMe } from "../lib/api.js";
import { everyMinute } from "../lib/clock.js";
import { h, setChildren, setText } from "../lib/dom.js";
import { formValues, showErrors, whileSubmitting } from "../lib/forms.js";
import {
  displayLocale,
  formatClock,
  formatLongDate,
  parseInstant,
  partOfDay,
  wallClock,
  zoneCity,
} from "../lib/time.js";

function unusable() {
  return notice({
    title: "This invite link cannot be used",
    body: [
      "It may have been used already, or it has expired.",
      "Ask the person who invited you to send a new link.",
    ],
  });
}

function inviterClock(invite, locale) {
  const zone = invite.invited_by?.timezone;
  if (!zone) return null;
  const clock = h("span", { class: "inline-clock" });
  everyMinute((now) =>
    setText(clock, `${formatClock(now, zone, locale)}, ${partOfDay(wallClock(now, zone).hour)}`),
  );
  return h(
    "p",
    {},
    `${invite.invited_by.name} lives in the ${zoneCity(zone)} time zone, where it is now `,
    clock,
    ".",
  );
}

function acceptForm(code, signedInAs) {
  const form = h(
    "form",
    { class: "accept-form", novalidate: true, "aria-label": "Accept the invite" },
    signedInAs
      ? h("p", {}, "You are signed in as ", h("strong", {}, signedInAs.name), ".")
      : personFields(),
    h(
      "div",
      { class: "form-actions" },
      h("button", { type: "submit", class: "button button--primary" }, "Accept and continue"),
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const body = signedInAs ? {} : { me: values.me };
    try {
      const result = await whileSubmitting(form, () => acceptInvite(code, body));
      window.location.assign(result.signin_url ? new URL(result.signin_url, window.location.origin).href : "/");
    } catch (error) {
      if (error instanceof ApiError && (error.status === 404 || error.status === 410)) {
        setChildren(form.closest("main") ?? form, topBar(), unusable());
        return;
      }
      showErrors(form, error);
    }
  });
  return form;
}

export async function renderInvite(root, settings) {
  root.classList.add("app--narrow");
  let invite;
  try {
    invite = await getInvite(settings.inviteCode);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 410)) {
      setChildren(root, topBar(), unusable());
      return;
    }
    throw error;
  }
  let me = null;
  try {
    me = await getMe();
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
  }
  const locale = displayLocale(me?.person?.locale);
  const inviter = invite.invited_by?.name ?? "Someone";
  const expires = parseInstant(invite.expires_at);
  setChildren(
    root,
    topBar(),
    h(
      "header",
      { class: "page-header hero" },
      h("p", { class: "eyebrow" }, "You are invited"),
      h("h1", {}, `${inviter} invites you to be their ${invite.role}`),
      invite.mentorship_title ? h("p", { class: "lead" }, `“${invite.mentorship_title}”`) : null,
      inviterClock(invite, locale),
      expires
        ? h(
            "p",
            { class: "muted" },
            "This link works once and expires on ",
            h("time", { datetime: invite.expires_at }, formatLongDate(expires, undefined, locale)),
            ".",
          )
        : null,
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "about-you-heading" },
      h("h2", { id: "about-you-heading" }, me ? "Accept the invite" : "About you"),
      me
        ? null
        : h(
            "p",
            { class: "section-intro" },
            `So ${inviter} sees your name and your local time. No password needed.`,
          ),
      acceptForm(settings.inviteCode, me?.person ?? null),
      h(
        "p",
        { class: "hint" },
        "In your first meeting, agree on how often you meet, how you keep in touch in between, what stays confidential, how you each like to receive feedback, and what you both want from this mentorship.",
      ),
    ),
  );
}
