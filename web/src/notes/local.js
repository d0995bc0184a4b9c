// The meeting's notes kept in this browser (IndexedDB, through y-indexeddb), so what is typed
// while the service is unreachable survives a closed tab or a crashed browser and goes out when
// the panel opens again. One database per meeting, named by its mentorship and meeting, so
// erasing a mentorship or signing out can remove exactly what it must.
//
// Removed by forgetLocalNotes(): on sign-out (lib/api.js signOut), when a mentorship is erased
// (the profile page, a notes socket closed with 4410, a panel whose meeting is gone).

import { IndexeddbPersistence } from "y-indexeddb";

export const LOCAL_PREFIX = "mentor-sidecar-notes-";
// Ids are URL-safe base64 ([A-Za-z0-9_-]), so "." cannot occur inside one.
const SEPARATOR = ".";
// The names this browser created, for browsers without indexedDB.databases() (Firefox < 126).
const REGISTRY_KEY = "mentor-sidecar-notes-databases";
// A browser that never answers the open (a stuck upgrade elsewhere) must not keep the notes
// from connecting: after this long the panel goes on without a local copy.
const OPEN_TIMEOUT_MS = 3000;

/** The database name of one meeting's notes. */
export const localNotesName = (mentorshipId, meetingId) =>
  `${LOCAL_PREFIX}${mentorshipId}${SEPARATOR}${meetingId}`;

/** Local copies open in this tab: closed first when they are forgotten (else deletion waits). */
const openHere = new Set();

function readRegistry() {
  try {
    const names = JSON.parse(globalThis.localStorage?.getItem(REGISTRY_KEY) ?? "[]");
    return Array.isArray(names) ? names.filter((n) => typeof n === "string") : [];
  } catch {
    return [];
  }
}

function writeRegistry(names) {
  try {
    if (names.length) globalThis.localStorage?.setItem(REGISTRY_KEY, JSON.stringify(names));
    else globalThis.localStorage?.removeItem(REGISTRY_KEY);
  } catch {
    // Storage turned off: indexedDB.databases() still finds them where it exists.
  }
}

/**
 * Keep `doc` in this browser: loads what an earlier visit left (before the caller connects) and
 * stores every change from then on. `ready` resolves true once loaded, false when this browser
 * keeps nothing (no IndexedDB, private mode refusing it, or no answer in time).
 *
 * @param {import("yjs").Doc} doc
 * @param {{mentorshipId: string, meetingId: string}} where
 */
export function keepNotesLocally(doc, { mentorshipId, meetingId }) {
  const name = localNotesName(mentorshipId, meetingId);
  let persistence = null;
  let kept = false;
  const entry = {
    name,
    /** True while changes are being written to this browser. */
    isKeeping: () => kept,
    ready: Promise.resolve(false),
    /** Stop writing (the database stays). */
    close() {
      if (!persistence) return Promise.resolve();
      kept = false;
      openHere.delete(entry);
      const closing = persistence.destroy();
      persistence = null;
      return closing.catch(() => {});
    },
    /** Stop writing and delete this meeting's local copy. */
    forget: () => forgetLocalNotes({ mentorshipId, meetingId }),
  };
  if (typeof globalThis.indexedDB === "undefined") return entry;

  try {
    persistence = new IndexeddbPersistence(name, doc);
  } catch {
    return entry;
  }
  openHere.add(entry);
  const registry = readRegistry();
  if (!registry.includes(name)) writeRegistry([...registry, name]);

  // Another tab signing out or erasing deletes this database: lib0 closes the connection on
  // `versionchange`; stop writing to it too, or every keystroke would throw on a closed database.
  // (`_db` is y-indexeddb's promise of the open IDBDatabase.)
  const opened = persistence._db.then(
    (db) => {
      db.addEventListener("versionchange", () => entry.close());
      return true;
    },
    () => false,
  );
  let timer = 0;
  const timedOut = new Promise((resolve) => {
    timer = setTimeout(() => resolve(false), OPEN_TIMEOUT_MS);
  });
  const loaded = persistence.whenSynced.then(() => true);
  entry.ready = Promise.race([opened.then((ok) => (ok ? loaded : false)), timedOut]).then(
    (ok) => {
      clearTimeout(timer);
      kept = ok && persistence !== null;
      if (!kept) entry.close();
      return kept;
    },
  );
  return entry;
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
