// `ws` as the WebSocket of @hocuspocus/provider 3.4.4 in Node. When the provider gives up on a
// connection attempt it removes its own handlers and closes the socket while it is still
// connecting; `ws` then emits 'error' with no listener left, which ends the Node process
// ("WebSocket was closed before the connection was established": a crash-harness trial against a
// restarting Hocuspocus under load, 2026-12-02). A browser's WebSocket only logs that, so each
// socket here gets a listener that ignores it; the provider's own handlers still see every error
// and close while they are attached.
import WebSocket from "ws";

export class HocuspocusWebSocket extends WebSocket {
  constructor(...args) {
    super(...args);
    this.on("error", () => {});
  }
}
