// The call page's two endpoints (sidecar/jitsi/api.py): what to join, and what the call did.

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
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = data && typeof data === "object" ? data.error : null;
    throw new ApiError(
      response.status,
      error?.message || `The request failed (HTTP ${response.status}).`,
      Array.isArray(error?.fields) ? error.fields : [],
    );
  }
  return data;
}

/** {configured, message, domain, script_url, room_name, jwt, display_name, email, moderator, warning} */
export const getJitsiCall = (meetingId) => call("GET", `/api/v1/meetings/${seg(meetingId)}/jitsi`);

/** Report one iframe event: {event, key?, room_name?, others_in_call} -> {recorded, ended, status}. */
export const reportJitsiEvent = (meetingId, body) =>
  call("POST", `/api/v1/meetings/${seg(meetingId)}/jitsi/events`, body);
