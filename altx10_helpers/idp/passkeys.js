// Passkey ceremonies of the Pocket ID stand-in: the browser side of /api/webauthn/{register,login}/{start,finish}.
// The server sends options as JSON (binary fields in base64url); this turns them into ArrayBuffers for
// navigator.credentials, and the authenticator's answer back into base64url JSON.
(function () {
  "use strict";
  var root = document.getElementById("passkey");
  if (!root) { return; }
  var button = document.getElementById("passkey-button");
  var status = document.getElementById("passkey-status");
  var api = root.dataset.api;

  function say(text, bad) {
    status.textContent = text;
    status.className = bad ? "error" : "muted";
  }
  function toBytes(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(b64 + "===".slice((b64.length + 3) % 4));
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out.buffer;
  }
  function toText(buffer) {
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  async function call(method, path, body) {
    var init = { method: method, credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    var response = await fetch(api + path, init);
    var data = await response.json().catch(function () { return {}; });
    if (!response.ok) { throw new Error(data.error_description || data.error || ("HTTP " + response.status)); }
    return data;
  }
  function descriptors(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, { id: toBytes(c.id) }); });
  }

  async function register() {
    var options = await call("GET", "/api/webauthn/register/start");
    options.challenge = toBytes(options.challenge);
    options.user.id = toBytes(options.user.id);
    options.excludeCredentials = descriptors(options.excludeCredentials);
    var credential = await navigator.credentials.create({ publicKey: options });
    var r = credential.response;
    var added = await call("POST", "/api/webauthn/register/finish", {
      id: credential.id, rawId: toText(credential.rawId), type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: {
        clientDataJSON: toText(r.clientDataJSON), attestationObject: toText(r.attestationObject),
        transports: r.getTransports ? r.getTransports() : []
      }
    });
    var item = document.createElement("li");
    item.textContent = added.name + " (just added)";
    var list = document.getElementById("passkey-list");
    if (list) { list.querySelectorAll("li.muted").forEach(function (li) { li.remove(); }); list.appendChild(item); }
    say("Passkey added. Next time, sign in with it.", false);
  }

  async function login() {
    var options = await call("GET", "/api/webauthn/login/start");
    options.challenge = toBytes(options.challenge);
    options.allowCredentials = descriptors(options.allowCredentials);
    var credential = await navigator.credentials.get({ publicKey: options });
    var r = credential.response;
    await call("POST", "/api/webauthn/login/finish", {
      id: credential.id, rawId: toText(credential.rawId), type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: {
        clientDataJSON: toText(r.clientDataJSON), authenticatorData: toText(r.authenticatorData),
        signature: toText(r.signature), userHandle: r.userHandle ? toText(r.userHandle) : null
      }
    });
    say("Signed in with your passkey.", false);
    window.location.assign(api + (root.dataset.next || "/"));
  }

  button.addEventListener("click", function () {
    if (!window.PublicKeyCredential) {
      say("This browser cannot use passkeys here (they need https or localhost).", true);
      return;
    }
    button.disabled = true;
    say(root.dataset.mode === "register" ? "Creating a passkey…" : "Waiting for your passkey…", false);
    (root.dataset.mode === "register" ? register() : login()).catch(function (error) {
      say("Passkey failed: " + (error && error.message ? error.message : error), true);
    }).finally(function () { button.disabled = false; });
  });
}());
