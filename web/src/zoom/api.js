// The Zoom App's calls to the service: the /api/v1 endpoints of zoom_app/api.py and the
// in-client OAuth routes (/zoom/oauth/in-client/*), all answering the contract's error body.

import { ApiError } from "../lib/api.js";

const seg = encodeURIComponent;

async function call(method, path, body) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
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
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = data?.error;
    throw new ApiError(
      response.status,
      error?.message || `The request failed (HTTP ${response.status}).`,
      Array.isArray(error?.fields) ? error.fields : [],
    );
  }
  return data;
}

export const zoomMeetingContext = (body) => call("POST", "/api/v1/zoom/meeting-context", body);
export const linkZoomMeeting = (mentorshipId, body) =>
  call("PUT", `/api/v1/mentorships/${seg(mentorshipId)}/zoom-meeting`, body);
export const zoomMeetingEnded = (meetingId) =>
  call("POST", `/api/v1/meetings/${seg(meetingId)}/zoom-ended`);
export const getMyZoom = () => call("GET", "/api/v1/me/zoom");
export const disconnectZoom = () => call("DELETE", "/api/v1/me/zoom");
export const createLinkCode = () => call("POST", "/api/v1/me/zoom/link-code");
export const startInClientOAuth = () => call("POST", "/zoom/oauth/in-client/start");
export const finishInClientOAuth = (body) => call("POST", "/zoom/oauth/in-client/finish", body);
