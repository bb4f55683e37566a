// Steward's security-key step. The form #webauthn carries the options of
// navigator.credentials (data-options, from the server) and which
// ceremony they are for (data-ceremony: "register" or "login"); this
// script asks the browser for the credential and posts the answer in the
// form's "credential" field. No other script runs on the sign-in pages.
(function () {
  "use strict";
  var form = document.getElementById("webauthn");
  if (!form) {
    return;
  }
  var button = document.getElementById("webauthn-start");
  var status = document.getElementById("webauthn-error");

  function bytes(s) {
    var b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) {
      b64 += "=";
    }
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      out[i] = bin.charCodeAt(i);
    }
    return out.buffer;
  }

  function text(buf) {
    var u = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < u.length; i++) {
      bin += String.fromCharCode(u[i]);
    }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fail(msg) {
    status.textContent = msg;
    status.hidden = false;
    button.disabled = false;
  }

  button.hidden = false;
  button.addEventListener("click", function () {
    if (!window.PublicKeyCredential || !navigator.credentials) {
      fail("This browser cannot use security keys.");
      return;
    }
    button.disabled = true;
    var options = JSON.parse(form.getAttribute("data-options")).publicKey;
    options.challenge = bytes(options.challenge);
    var asked;
    if (form.getAttribute("data-ceremony") === "register") {
      options.user.id = bytes(options.user.id);
      (options.excludeCredentials || []).forEach(function (c) { c.id = bytes(c.id); });
      asked = navigator.credentials.create({ publicKey: options });
    } else {
      (options.allowCredentials || []).forEach(function (c) { c.id = bytes(c.id); });
      asked = navigator.credentials.get({ publicKey: options });
    }
    asked.then(function (cred) {
      var r = cred.response;
      var out = {
        id: cred.id,
        rawId: text(cred.rawId),
        type: cred.type,
        clientExtensionResults: cred.getClientExtensionResults(),
        response: { clientDataJSON: text(r.clientDataJSON) }
      };
      if (cred.authenticatorAttachment) {
        out.authenticatorAttachment = cred.authenticatorAttachment;
      }
      if (r.attestationObject) {
        out.response.attestationObject = text(r.attestationObject);
        if (r.getTransports) {
          out.response.transports = r.getTransports();
        }
      } else {
        out.response.authenticatorData = text(r.authenticatorData);
        out.response.signature = text(r.signature);
        if (r.userHandle) {
          out.response.userHandle = text(r.userHandle);
        }
      }
      document.getElementById("credential").value = JSON.stringify(out);
      form.submit();
    }, function (e) {
      fail("The security key did not answer (" + e.name + "). Try again, or use a code.");
    });
  });
})();
