// "Email me a sign-in link" (POST /api/v1/signin-requests): the way back in for someone signed
// out, on the signed-out pages and on the home page. The service answers the same whether or not
// it knows the address, and so does this form.

import { ApiError, requestSigninLink } from "../lib/api.js";
import { h, setText } from "../lib/dom.js";
import { clearErrors, field, showErrors, whileSubmitting } from "../lib/forms.js";

export const SENT_MESSAGE =
  "If that address belongs to a mentorship here, a link is on its way. Check your inbox.";

function minutesFrom(seconds) {
  const minutes = Math.max(1, Math.ceil(seconds / 60));
  return minutes === 1 ? "a minute" : `${minutes} minutes`;
}

/** The problem in words a person understands, as the form shows it. */
function inWords(error) {
  if (error instanceof ApiError && error.status === 422) {
    return { message: "", fields: [{ loc: "email", msg: "Enter your whole email address, like ana@example.org." }] };
  }
  if (error instanceof ApiError && error.status === 429) {
    const wait = error.retryAfter ? ` Try again in ${minutesFrom(error.retryAfter)}.` : " Try again later.";
    return { message: `Many sign-in links were asked for just now.${wait}`, fields: [] };
  }
  if (error instanceof ApiError && error.status === 0) return { message: error.message, fields: [] };
  return { message: "Mentor Sidecar could not send a link just now. Try again in a moment.", fields: [] };
}

/**
 * The form. `heading` is shown above it (null for none); `intro` a sentence under the heading.
 */
export function signinRequestForm({ heading = "Email me a sign-in link", intro = null, email = "" } = {}) {
  const status = h("p", { class: "signin-request-status", role: "status", hidden: true });
  const emailField = field({
    name: "email",
    label: "Your email address",
    type: "email",
    required: true,
    value: email,
    autocomplete: "email",
    hint: "The one you gave when you joined your mentorship.",
  });
  const form = h(
    "form",
    { id: "signin-request", class: "signin-request", novalidate: true, "aria-label": heading ?? "Email me a sign-in link" },
    heading ? h("h2", {}, heading) : null,
    intro ? h("p", { class: "section-intro" }, intro) : null,
    emailField,
    h(
      "div",
      { class: "form-actions" },
      h("button", { type: "submit", class: "button button--primary" }, "Email me a sign-in link"),
    ),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    status.hidden = true;
    const address = form.querySelector("input[name=email]").value.trim();
    if (!address || !address.includes("@")) {
      showErrors(form, inWords(new ApiError(422, "")));
      return;
    }
    try {
      const answer = await whileSubmitting(form, () => requestSigninLink(address));
      setText(status, answer?.message ?? SENT_MESSAGE);
      status.hidden = false;
    } catch (error) {
      showErrors(form, inWords(error));
    }
  });
  return form;
}
