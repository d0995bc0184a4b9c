// The JSON API client (/api/v1, see docs/panel-contract.md). The browser is authenticated by
// the HttpOnly session cookie; fetch sends it and the same-origin Origin header on its own.

import { forgetLocalNotes } from "../notes/forget.js";

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, 0 when the service could not be reached
   * @param {string} message human-readable message from the service
   * @param {{loc: string, msg: string}[]} fields per-field validation problems
   * @param {string | null} code on some 409s, what is in the way (e.g. "nobody_joined")
   */
  constructor(status, message, fields = [], code = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.fields = fields;
    this.code = code;
  }
}

const seg = encodeURIComponent;

/** A JSON call to the service; errors become ApiError with the contract's fields. */
export async function request(method, path, body) {
  const init = {
    method,
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, "Could not reach Mentor Sidecar. Check your connection and try again.");
  }
  return readResponse(response);
}

async function readResponse(response) {
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = data && typeof data === "object" ? data.error : null;
    const failure = new ApiError(
      response.status,
      (error && error.message) || `The request failed (HTTP ${response.status}).`,
      error && Array.isArray(error.fields) ? error.fields : [],
      (error && typeof error.code === "string" && error.code) || null,
    );
    // Seconds until trying again makes sense (429 and 503 answers), when the service says.
    const retryAfter = Number(response.headers.get("Retry-After"));
    if (Number.isFinite(retryAfter) && retryAfter > 0) failure.retryAfter = retryAfter;
    throw failure;
  }
  return data;
}

const v1 = (path) => `/api/v1${path}`;

export const getMe = () => request("GET", v1("/me"));

// Getting back in: a sign-in link by email, and the devices (browser sessions) signed in.
export const requestSigninLink = (email) => request("POST", v1("/signin-requests"), { email });
export const listSessions = () => request("GET", v1("/me/sessions"));
export const endSession = (id) => request("DELETE", v1(`/me/sessions/${seg(id)}`));

export const createMentorship = (body) => request("POST", v1("/mentorships"), body);
export const getMentorship = (id) => request("GET", v1(`/mentorships/${seg(id)}`));
export const listMeetings = (mentorshipId) =>
  request("GET", v1(`/mentorships/${seg(mentorshipId)}/meetings`));
export const listGoals = (mentorshipId) =>
  request("GET", v1(`/mentorships/${seg(mentorshipId)}/goals`));
export const listActionItems = (mentorshipId) =>
  request("GET", v1(`/mentorships/${seg(mentorshipId)}/action-items`));

export const getInvite = (code) => request("GET", v1(`/invites/${seg(code)}`));
export const acceptInvite = (code, body) =>
  request("POST", v1(`/invites/${seg(code)}/accept`), body);

export const getMeeting = (id) => request("GET", v1(`/meetings/${seg(id)}`));
export const listAgenda = (meetingId) => request("GET", v1(`/meetings/${seg(meetingId)}/agenda`));
export const addAgendaItem = (meetingId, body) =>
  request("POST", v1(`/meetings/${seg(meetingId)}/agenda`), body);
export const updateAgendaItem = (id, changes) =>
  request("PATCH", v1(`/agenda-items/${seg(id)}`), changes);
export const deleteAgendaItem = (id) => request("DELETE", v1(`/agenda-items/${seg(id)}`));

/** Clear the session cookie (POST /signout); the caller navigates afterwards. */
export async function signOut() {
  await forgetLocalNotes(); // the notes this browser kept go with the session
  try {
    await fetch("/signout", { method: "POST", credentials: "same-origin", redirect: "manual" });
  } catch {
    // Navigating away is all that is left to do either way.
  }
}

// --- before the call: agreement, schedule, calendar, goals, next steps, profile, prompts ---

export const getAgreement = (mentorshipId) =>
  request("GET", v1(`/mentorships/${seg(mentorshipId)}/agreement`));
export const updateAgreement = (mentorshipId, changes) =>
  request("PATCH", v1(`/mentorships/${seg(mentorshipId)}/agreement`), changes);
export const confirmAgreement = (mentorshipId) =>
  request("POST", v1(`/mentorships/${seg(mentorshipId)}/agreement/confirm`));

export const createSchedule = (mentorshipId, body) =>
  request("POST", v1(`/mentorships/${seg(mentorshipId)}/schedule`), body);
export const updateMeeting = (id, changes) => request("PATCH", v1(`/meetings/${seg(id)}`), changes);
export const sendAgenda = (meetingId) =>
  request("POST", v1(`/meetings/${seg(meetingId)}/agenda/send`));
export const createCalendarFeed = () => request("POST", v1("/me/calendar-feed"));

export const addGoal = (mentorshipId, body) =>
  request("POST", v1(`/mentorships/${seg(mentorshipId)}/goals`), body);
export const updateGoal = (id, changes) => request("PATCH", v1(`/goals/${seg(id)}`), changes);
export const addProgress = (goalId, body) =>
  request("POST", v1(`/goals/${seg(goalId)}/progress`), body);

export const updateActionItem = (id, changes) =>
  request("PATCH", v1(`/action-items/${seg(id)}`), changes);

export const updateMe = (changes) => request("PATCH", v1("/me"), changes);
export const deletePhoto = () => request("DELETE", v1("/me/photo"));
export const listPrompts = (kind) =>
  request("GET", v1(kind ? `/prompts?kind=${seg(kind)}` : "/prompts"));

/** PUT /me/photo with the file's own bytes and content type (the service checks and resizes). */
export async function uploadPhoto(file) {
  let response;
  try {
    response = await fetch(v1("/me/photo"), {
      method: "PUT",
      credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": file.type || "application/octet-stream" },
      body: file,
    });
  } catch {
    throw new ApiError(0, "Could not reach Mentor Sidecar. Check your connection and try again.");
  }
  return readResponse(response);
}

/** The URL of a person's photo, or null when they have none (?v= busts the cache on change). */
export function photoUrl(person) {
  if (!person?.photo_updated_at) return null;
  return v1(`/people/${seg(person.id)}/photo?v=${seg(person.photo_updated_at)}`);
}

// --- after the call: ending, the summary, past meetings, search ---

export const endMeeting = (id, body) => request("POST", v1(`/meetings/${seg(id)}/end`), body);
export const reopenMeeting = (id) => request("POST", v1(`/meetings/${seg(id)}/reopen`));
export const cancelMeeting = (id) => request("POST", v1(`/meetings/${seg(id)}/cancel`));
export const getSummaryDraft = (id) => request("GET", v1(`/meetings/${seg(id)}/summary/draft`));
export const getSummary = (id) => request("GET", v1(`/meetings/${seg(id)}/summary`));
export const searchMeetings = (mentorshipId, q) =>
  request("GET", v1(`/mentorships/${seg(mentorshipId)}/search?q=${seg(q)}`));
export const exportUrl = (mentorshipId) => v1(`/mentorships/${seg(mentorshipId)}/export.md`);
export const notesMdUrl = (meetingId) => v1(`/meetings/${seg(meetingId)}/notes.md`);

// --- during the call: the meeting's agreements and the next steps created in it ---

export const listOpenActionItems = (mentorshipId) =>
  request("GET", v1(`/mentorships/${seg(mentorshipId)}/action-items?status=open`));
export const addActionItem = (mentorshipId, body) =>
  request("POST", v1(`/mentorships/${seg(mentorshipId)}/action-items`), body);
export const listMeetingAgreements = (meetingId) =>
  request("GET", v1(`/meetings/${seg(meetingId)}/agreements`));
export const addMeetingAgreement = (meetingId, body) =>
  request("POST", v1(`/meetings/${seg(meetingId)}/agreements`), body);
export const updateMeetingAgreement = (id, changes) =>
  request("PATCH", v1(`/meeting-agreements/${seg(id)}`), changes);
export const deleteMeetingAgreement = (id) =>
  request("DELETE", v1(`/meeting-agreements/${seg(id)}`));
export const everythingExportUrl = () => v1("/me/export");
export const deleteMentorship = (id) =>
  request("DELETE", v1(`/mentorships/${seg(id)}`), { confirm: true });

// --- editing next steps; erasing after a grace period (undo) ---

export const deleteActionItem = (id) => request("DELETE", v1(`/action-items/${seg(id)}`));
export const undoMentorshipErasure = (id) =>
  request("POST", v1(`/mentorships/${seg(id)}/erasure/undo`));
export const deleteProfile = () => request("DELETE", v1("/me"), { confirm: true });
export const undoProfileErasure = () => request("POST", v1("/me/erasure/undo"));
