// The meeting's live events socket (ws(s)://host/ws/meetings/{id}/events, cookie auth).
// The service sends {"type":"hello"} and then {"type": "agenda"|"meeting"|"goals"|"actions"|
// "agreement", "by": person_id} after every change, including our own. The socket carries no
// content: the listener refetches the part named. It reconnects with backoff and, when it is
// back, asks for everything again (events sent while away are lost).

const KEEPALIVE_MS = 20000;
const MAX_BACKOFF_MS = 10000;

/**
 * connectEvents(meetingId, {onEvent(type, by), onResync(), onStatus("live"|"reconnecting")})
 * Returns {close()}.
 */
export function connectEvents(meetingId, { onEvent, onResync, onStatus = () => {} }) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const url = `${scheme}//${window.location.host}/ws/meetings/${encodeURIComponent(meetingId)}/events`;
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
      // 4401/4403/4404: signed out or no longer a member; retrying will not help.
      if (event.code >= 4400 && event.code < 4500) {
        onStatus("closed");
        return;
      }
      onStatus("reconnecting");
      attempts += 1;
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
