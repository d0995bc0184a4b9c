// The Zoom App's calls to the service: the /api/v1 endpoints of zoom_app/api.py and the
// in-client OAuth routes (/zoom/oauth/in-client/*), all answering the contract's error body.

import { request as call } from "../lib/api.js";

const seg = encodeURIComponent;

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
