// Forgetting the notes kept in this browser (see local.js), without y-indexeddb or Yjs: signing
// out and erasing happen on every page, and the light pages must not download the editor's
// libraries for it. local.js keeps the copies and registers the ones open in this tab here.

export const LOCAL_PREFIX = "mentor-sidecar-notes-";
// Ids are URL-safe base64 ([A-Za-z0-9_-]), so "." cannot occur inside one.
export const SEPARATOR = ".";
// The names this browser created, for browsers without indexedDB.databases() (Firefox < 126).
const REGISTRY_KEY = "mentor-sidecar-notes-databases";

/** The database name of one meeting's notes. */
export const localNotesName = (mentorshipId, meetingId) =>
  `${LOCAL_PREFIX}${mentorshipId}${SEPARATOR}${meetingId}`;

/** Local copies open in this tab: closed first when they are forgotten (else deletion waits). */
export const openHere = new Set();

export function readRegistry() {
  try {
    const names = JSON.parse(globalThis.localStorage?.getItem(REGISTRY_KEY) ?? "[]");
    return Array.isArray(names) ? names.filter((n) => typeof n === "string") : [];
  } catch {
    return [];
  }
}

export function writeRegistry(names) {
  try {
    if (names.length) globalThis.localStorage?.setItem(REGISTRY_KEY, JSON.stringify(names));
    else globalThis.localStorage?.removeItem(REGISTRY_KEY);
  } catch {
    // Storage turned off: indexedDB.databases() still finds them where it exists.
  }
}

function deleteDatabase(name) {
  return new Promise((resolve) => {
    let request;
    try {
      request = globalThis.indexedDB.deleteDatabase(name);
    } catch {
      resolve(false);
      return;
    }
    request.onsuccess = () => resolve(true);
    request.onerror = () => resolve(false);
    // Another tab still has it open: it closes on `versionchange` and the deletion then
    // completes by itself; nothing to wait for here.
    request.onblocked = () => resolve(true);
  });
}

/**
 * Delete the notes kept in this browser: every meeting's (no argument: signing out), one
 * mentorship's (`{mentorshipId}`: erased), or one meeting's (`{meetingId}`). Never throws.
 *
 * @param {{mentorshipId?: string, meetingId?: string}} [which]
 */
export async function forgetLocalNotes({ mentorshipId, meetingId } = {}) {
  const matches = (name) =>
    name.startsWith(LOCAL_PREFIX) &&
    (!mentorshipId || name.startsWith(`${LOCAL_PREFIX}${mentorshipId}${SEPARATOR}`)) &&
    (!meetingId || name.endsWith(`${SEPARATOR}${meetingId}`));
  try {
    await Promise.all([...openHere].filter((entry) => matches(entry.name)).map((e) => e.close()));
    if (typeof globalThis.indexedDB === "undefined") return;
    const names = new Set(readRegistry().filter(matches));
    if (typeof globalThis.indexedDB.databases === "function") {
      for (const info of await globalThis.indexedDB.databases()) {
        if (info.name && matches(info.name)) names.add(info.name);
      }
    }
    await Promise.all([...names].map(deleteDatabase));
    writeRegistry(readRegistry().filter((name) => !names.has(name)));
  } catch {
    // Nothing more this browser lets us do.
  }
}
