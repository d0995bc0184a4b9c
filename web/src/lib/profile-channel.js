// "My profile changed" between tabs of this browser (BroadcastChannel, same origin): the profile
// page says so after a photo upload, a removal or a save, and an open panel redraws your own
// card at once instead of asking for a photo you already gave until it is reloaded.

const NAME = "mentor-sidecar-profile";

function channel() {
  try {
    return new BroadcastChannel(NAME);
  } catch {
    return null; // very old browsers: the panel still catches up when it is shown again
  }
}

/** Tell the other tabs that your profile (photo, name, about) changed. */
export function announceProfileChanged() {
  const ch = channel();
  ch?.postMessage({ type: "profile" });
  ch?.close();
}

/** Call `listener()` when another tab changed your profile, or when this tab is shown again. */
export function onProfileChanged(listener) {
  const ch = channel();
  ch?.addEventListener("message", (event) => {
    if (event.data?.type === "profile") listener();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") listener();
  });
}
