// Your profile (body[data-page=profile]): name, email, time zone, language and region and a few
// lines about you (PATCH /me); a photo (PUT /me/photo with the file's own bytes, checked and
// resized by the service) that your partner sees in the panel; the private calendar link.

import { calendarFeed } from "../components/calendar-feed.js";
import { devicesSection } from "../components/devices.js";
import { signinRequestForm } from "../components/signin-request.js";
import { yourData } from "../components/your-data.js";
import { notice, retryButton, signedInFooter, topBar } from "../components/layout.js";
import { ApiError, deletePhoto, getMe, photoUrl, updateMe, uploadPhoto } from "../lib/api.js";
import { announceProfileChanged } from "../lib/profile-channel.js";
import { h, liveRegion, setChildren, setText, uid } from "../lib/dom.js";
import { clearErrors, field, formValues, showErrors, whileSubmitting } from "../lib/forms.js";
import { timeZoneOptions } from "../lib/time.js";
import { initials } from "../lib/words.js";

const ACCEPTED = ["image/jpeg", "image/png", "image/webp"];
const MAX_BYTES = 5 * 1024 * 1024;

function photoSection(initialPerson, onChange) {
  let person = initialPerson;
  const inputId = uid("photo");
  const preview = h("div", { class: "photo-preview" });
  const input = h("input", {
    id: inputId,
    type: "file",
    name: "photo",
    accept: ACCEPTED.join(","),
    class: "file-input",
    "aria-describedby": `${inputId}-hint`,
  });
  const error = h("p", { class: "field-error", id: `${inputId}-error`, hidden: true });
  const announcer = liveRegion();
  const remove = h("button", { type: "button", class: "button button--quiet remove-photo" }, "Remove photo");
  const label = h("label", { for: inputId });

  function showError(message) {
    error.textContent = message;
    error.hidden = !message;
    if (message) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", `${inputId}-hint ${inputId}-error`);
    } else {
      input.removeAttribute("aria-invalid");
      input.setAttribute("aria-describedby", `${inputId}-hint`);
    }
  }

  function draw() {
    const url = photoUrl(person);
    setText(label, url ? "Choose a new photo" : "Choose a photo");
    setChildren(
      preview,
      url
        ? h("img", { class: "photo-large", src: url, alt: `Your photo`, width: 112, height: 112 })
        : h("span", { class: "photo-large photo-large--initials", "aria-hidden": "true" }, initials(person.name)),
    );
    remove.hidden = !url;
  }

  input.addEventListener("change", async () => {
    const file = input.files?.[0];
    showError("");
    if (!file) return;
    if (file.size > MAX_BYTES) {
      showError("That file is larger than 5 MB. Choose a smaller photo.");
      input.value = "";
      return;
    }
    input.disabled = true;
    try {
      person = await uploadPhoto(file);
      draw();
      onChange(person);
      announceProfileChanged();
      setText(announcer, "Photo saved.");
    } catch (err) {
      let message = err.fields?.find((f) => f.loc === "photo")?.msg ?? err.message;
      if (err instanceof ApiError && err.status === 415) message = "Choose a JPEG, PNG or WebP image.";
      if (err instanceof ApiError && err.status === 413) message = "That file is too large. Choose a smaller photo.";
      showError(message.charAt(0).toUpperCase() + message.slice(1));
    } finally {
      input.disabled = false;
      input.value = "";
    }
  });

  remove.addEventListener("click", async () => {
    remove.disabled = true;
    showError("");
    try {
      await deletePhoto();
      person = { ...person, photo_updated_at: null };
      draw();
      onChange(person);
      announceProfileChanged();
      setText(announcer, "Photo removed.");
      input.focus();
    } catch (err) {
      showError(err.message);
    } finally {
      remove.disabled = false;
    }
  });

  draw();
  return h(
    "section",
    { id: "photo", class: "card", "aria-labelledby": "photo-heading" },
    h("h2", { id: "photo-heading" }, "Your photo"),
    h(
      "div",
      { class: "photo-row" },
      preview,
      h(
        "div",
        { class: "field photo-field", dataset: { field: "photo" } },
        label,
        input,
        h(
          "p",
          { class: "hint", id: `${inputId}-hint` },
          "JPEG, PNG or WebP, up to 5 MB; it is cropped to a square. A face helps a partner far away feel they know you.",
        ),
        error,
        h("div", { class: "form-actions" }, remove),
      ),
    ),
    announcer,
  );
}

function profileForm(initialPerson, onSaved) {
  const person = initialPerson;
  const status = h("p", { class: "save-status", role: "status" });
  const about = field({
    name: "about",
    label: "About you",
    type: "textarea",
    value: person.about ?? "",
    maxlength: null,
    limit: 8000, // LongText in sidecar/api/schemas.py
    hint: "A few lines your partner sees beside your photo: where you are, what you do, something you care about.",
  });
  about.querySelector("textarea").rows = 4;
  const form = h(
    "form",
    { id: "profile-form", class: "card", novalidate: true, "aria-labelledby": "profile-heading" },
    h("h2", { id: "profile-heading" }, "About you"),
    h(
      "div",
      { class: "field-grid" },
      field({ name: "name", label: "Your name", required: true, value: person.name, autocomplete: "name" }),
      field({ name: "email", label: "Email", type: "email", required: true, value: person.email, autocomplete: "email" }),
      field({
        name: "timezone",
        label: "Time zone",
        required: true,
        value: person.timezone,
        options: timeZoneOptions(person.timezone),
        hint: "Your partner sees your local time from this.",
      }),
      field({
        name: "locale",
        label: "Language and region",
        required: true,
        value: person.locale,
        hint: "How dates and times are written for you, e.g. en-GB or pt-BR.",
      }),
    ),
    about,
    h(
      "div",
      { class: "form-actions" },
      h("button", { type: "submit", class: "button button--primary" }, "Save"),
      status,
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    setText(status, "");
    const values = formValues(form);
    const area = form.querySelector("textarea[name=about]");
    values.about = area.value; // keep line breaks and spacing as typed
    try {
      const saved = await whileSubmitting(form, () => updateMe(values));
      onSaved(saved.person ?? saved);
      announceProfileChanged();
      setText(status, "Saved.");
    } catch (error) {
      showErrors(form, error);
    }
  });
  return form;
}

export async function renderProfile(root) {
  root.classList.add("app--narrow");
  let me;
  try {
    me = await getMe();
  } catch (error) {
    const body =
      error instanceof ApiError && error.status === 401
        ? notice({
            title: "You are signed out",
            body: "Open the link in any email from Mentor Sidecar, or have a new sign-in link sent to you.",
            action: signinRequestForm({ heading: null }),
          })
        : notice({ title: "Your profile could not load", body: error.message, action: retryButton(), tone: "error" });
    setChildren(root, topBar(), body);
    return;
  }
  let person = me.person;
  const footer = h("div", {}, signedInFooter(person));
  const onChange = (next) => {
    person = { ...person, ...next };
    setChildren(footer, signedInFooter(person));
  };
  const next = (me.mentorships ?? []).find((m) => m.next_meeting_id);
  setChildren(
    root,
    topBar(next ? h("a", { class: "topbar-link", href: `/meetings/${encodeURIComponent(next.next_meeting_id)}` }, "Next meeting") : null),
    h(
      "header",
      { class: "page-header" },
      h("h1", {}, "Your profile"),
      h("p", { class: "lead" }, "What your mentoring partner sees about you in the panel."),
    ),
    photoSection(person, onChange),
    profileForm(person, onChange),
    h(
      "section",
      { id: "calendar", class: "card", "aria-labelledby": "calendar-heading" },
      h("h2", { id: "calendar-heading" }, "Add to my calendar"),
      calendarFeed(),
    ),
    devicesSection(person.locale),
    yourData(me.mentorships ?? [], me),
    footer,
  );
}
