// The Zoom Apps SDK (@zoom/appssdk, bundled: nothing from a CDN), started only inside Zoom.
// CAPABILITIES is what config() asks for; zoom_app/manifest.json lists the same APIs (a test
// checks they agree) and the Marketplace app must have them enabled.
//
// The SDK object is a Proxy that turns any unknown property into an API call, `then` included:
// it is never awaited or returned from an async function, only carried inside { sdk }.

export const CAPABILITIES = [
  "authorize",
  "getMeetingContext",
  "getMeetingUUID",
  "getRunningContext",
  "getUserContext",
  "onAuthorized",
  "onMeeting",
  "openUrl",
];

/** Could this page be inside a Zoom client? (The SDK's own detection, without loading it.) */
export function mightBeInZoom() {
  let framed = true;
  try {
    framed = window.self !== window.top;
  } catch {
    framed = true; // a cross-origin parent: framed
  }
  return framed || Boolean(window.chrome?.webview || window.webkit?.messageHandlers?.jsOCHelper || window.android);
}

/**
 * Configure the SDK inside Zoom: {zoom: {sdk}, config} or null in a plain browser (or a client
 * that did not answer). The SDK module is only loaded when the page may be inside Zoom.
 */
export async function startZoom({ timeout = 8000 } = {}) {
  if (!mightBeInZoom()) return null;
  let sdk;
  try {
    sdk = (await import("@zoom/appssdk")).default;
  } catch {
    return null;
  }
  try {
    const config = await sdk.config({ capabilities: CAPABILITIES, timeout });
    return { zoom: { sdk }, config };
  } catch {
    return null; // "not supported by this browser", or no answer: run as a plain page
  }
}

/** Wait for one event of the SDK (e.g. onAuthorized after authorize()). */
export function nextEvent(sdk, name, { timeout = 120000 } = {}) {
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      reject(new Error("Zoom did not answer in time. Try again."));
    }, timeout);
    sdk.addEventListener(name, (event) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(event);
    });
  });
}
