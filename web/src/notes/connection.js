// The live notes document and its connection: a Yjs doc whose Y.Text "notes" is kept in sync
// with /ws/notes/{meetingId} by y-websocket's WebsocketProvider (which reconnects and resyncs
// by itself, and sends edits made while offline when it is back).
//
// Two presence fixes on top of y-websocket (see /work/shared/notes-sync-facts.md):
//  - a reconnecting client re-sends its presence with the same clock, which the other side
//    ignores, so it would look absent for up to 15 s: move our clock on at every `connected`;
//  - when our connection drops, y-websocket removes the other people's states but keeps their
//    clocks, so their re-announcement could be ignored too: forget their meta as well.

import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";

export const TEXT_NAME = "notes";

/**
 * Closes that retrying cannot fix, after which the provider stops reconnecting (the project's
 * close codes, y-websocket's convention): 4400-4499 (the server refused for good: 4400
 * malformed, 4401 access revoked, 4410 mentorship or meeting erased, 4413 notes over the
 * document limit) and 1009 (a message over the server's limit: the same update would be re-sent
 * on every reconnect). Everything else (1001 shutdown, 1011 server error or failed commit, 1013
 * overloaded, 4500-4599, a dropped connection) is transient: the provider comes back by itself.
 */
export const isTerminalClose = (code) => (code >= 4400 && code < 4500) || code === 1009;

/**
 * What a close means for the person: "revoked" (4401), "erased" (4410), "full" (4413),
 * "broken" (any other final close: this connection had a problem, reloading helps) or
 * "transient" (reconnecting by itself).
 */
export function closeKind(code) {
  if (!isTerminalClose(code)) return "transient";
  if (code === 4401) return "revoked";
  if (code === 4410) return "erased";
  if (code === 4413) return "full";
  return "broken";
}

/** ws:// or wss:// on this page's host (the session cookie rides along, same origin). */
export function notesServerUrl(loc = window.location) {
  const scheme = loc.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${loc.host}/ws/notes`;
}

/**
 * The document and a not-yet-connected provider; call `connect()` once the editor is bound.
 * `providerOptions` go to WebsocketProvider as well (Node passes `WebSocketPolyfill` and
 * `params: {token}`; the browser needs neither, its session cookie rides along).
 *
 * @param {{meetingId: string, user: {name: string, color: string, colorLight: string},
 *   serverUrl?: string, providerOptions?: object}} options
 * @param {{onStatus?: Function, onClosed?: Function, onSynced?: Function}} handlers
 */
export function connectNotes(
  { meetingId, user, serverUrl = notesServerUrl(), providerOptions = {} },
  handlers = {},
) {
  const doc = new Y.Doc();
  const ytext = doc.getText(TEXT_NAME);
  // y-websocket appends the room to the URL without encoding it.
  const provider = new WebsocketProvider(serverUrl, encodeURIComponent(meetingId), doc, {
    connect: false, // connect() once the caller has bound its editor and handlers
    disableBc: true, // the server is the one place edits meet; no tab-to-tab shortcut
    shouldReconnect: (event) => !isTerminalClose(event.code),
    ...providerOptions,
  });
  const { awareness } = provider;
  awareness.setLocalStateField("user", user);

  // Local edits that have not gone out on a socket yet (typed while offline).
  let unsent = false;
  doc.on("update", (_update, origin) => {
    if (origin !== provider && !provider.wsconnected) unsent = true;
  });

  provider.on("status", ({ status }) => {
    if (status === "connected") {
      // Re-announce with a newer clock, so peers that kept our old clock accept it. Jump by two:
      // a server may have announced our departure with clock + 1 (this one does), and a peer
      // ignores a state whose clock equals the one it holds.
      const state = awareness.getLocalState();
      const meta = awareness.meta.get(doc.clientID);
      if (state !== null && meta) {
        meta.clock += 1;
        awareness.setLocalState({ ...state });
      }
    } else if (status === "disconnected") {
      for (const clientId of [...awareness.meta.keys()]) {
        if (clientId !== doc.clientID) awareness.meta.delete(clientId);
      }
    }
    handlers.onStatus?.(status);
  });
  provider.on("sync", (synced) => {
    // Our answer to the server's step 1 (with any offline edits) went out before its step 2.
    if (synced) unsent = false;
    handlers.onSynced?.(synced);
  });
  provider.on("closed", (event) => handlers.onClosed?.(event));

  const undoManager = new Y.UndoManager(ytext);
  return {
    doc,
    ytext,
    provider,
    awareness,
    undoManager,
    hasUnsentEdits: () => unsent,
    connect: () => provider.connect(),
    destroy() {
      provider.destroy();
      undoManager.destroy();
      doc.destroy();
    },
  };
}
