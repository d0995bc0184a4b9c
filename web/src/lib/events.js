// The meeting's live events socket (ws(s)://host/ws/meetings/{id}/events, cookie auth).
// The service sends {"type":"hello"} and then {"type": "agenda"|"meeting"|"goals"|"actions"|
// "agreement", "by": person_id} after every change, including our own. The socket carries no
// content: the listener refetches the part named. It reconnects with backoff and, when it is
// back, asks for everything again (events sent while away are lost).

const KEEPALIVE_MS = 20000;
const MAX_BACKOFF_MS = 10000;
const PROBE_AFTER = 3; // failed connections in a row before onFailing()
const PROBE_EVERY = 10; // and again after every this many more

/**
 * connectEvents(meetingId, {onEvent(type, by), onResync(), onStatus("live"|"reconnecting"|"closed",
 * code), onFailing()}); `{mentorshipId}` instead of a meeting id listens to the whole mentorship
 * (the agreement page). Returns {close()}.
 */
export function connectEvents(
  target,
  { onEvent, onResync, onStatus = () => {}, onFailing = () => {} },
) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const path =
    typeof target === "object" && target?.mentorshipId
      ? `/ws/mentorships/${encodeURIComponent(target.mentorshipId)}/events`
      : `/ws/meetings/${encodeURIComponent(target)}/events`;
  const url = `${scheme}//${window.location.host}${path}`;
  let socket = null;
  let attempts = 0;
  let everOpen = false;
  let closedForGood = false;
  let retryTimer = 0;
  let pingTimer = 0;

  function open() {
    if (closedForGood) return;
    socket = new WebSocket(url);
    socket.addEventListener("message", (message) => {
      let data;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      if (data?.type === "hello") {
        attempts = 0;
        onStatus("live");
        if (everOpen) onResync();
        everOpen = true;
      } else if (data?.type && data.type !== "pong") {
        onEvent(data.type, data.by ?? null);
      }
    });
    socket.addEventListener("open", () => {
      clearInterval(pingTimer);
      pingTimer = setInterval(() => {
        if (socket?.readyState === WebSocket.OPEN) socket.send("ping");
      }, KEEPALIVE_MS);
    });
    socket.addEventListener("close", (event) => {
      clearInterval(pingTimer);
      socket = null;
      if (closedForGood) return;
      // 4400-4499 are final (4401 signed out or revoked, 4410 the mentorship was erased).
      if (event.code >= 4400 && event.code < 4500) {
        closedForGood = true;
        onStatus("closed", event.code);
        return;
      }
      onStatus("reconnecting", event.code);
      attempts += 1;
      // A refused upgrade arrives as a plain 1006: let the caller ask the API why.
      if (attempts >= PROBE_AFTER && (attempts - PROBE_AFTER) % PROBE_EVERY === 0) onFailing();
      const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(attempts, 5));
      retryTimer = setTimeout(open, delay * (0.75 + Math.random() * 0.5));
    });
  }

  const onOnline = () => {
    if (!socket && !closedForGood) {
      clearTimeout(retryTimer);
      open();
    }
  };
  window.addEventListener("online", onOnline);
  open();

  return {
    close() {
      closedForGood = true;
      clearTimeout(retryTimer);
      clearInterval(pingTimer);
      window.removeEventListener("online", onOnline);
      socket?.close();
    },
  };
}
