"""Signs a user in to Steward with MSAL for Python's auth code flow.

Usage: msal_authcode.py AUTHORITY_HOST TENANT CLIENT_ID SECRET REDIRECT_URI SCOPE UPN PASSWORD
MSAL's ConfidentialClientApplication builds the authorization request
(PKCE, state, nonce) and redeems the code; this script plays the browser
with requests: it fills in the sign-in form Steward serves and accepts the
consent page. Prints a JSON object: {"access_token", "id_token_claims",
"refresh_token", "silent_access_token"} or {"error": ...}. The CA is
trusted through REQUESTS_CA_BUNDLE.
"""
import html
import json
import re
import sys
import urllib.parse

import msal
import requests

host, tenant, client_id, secret, redirect_uri, scope, upn, password = sys.argv[1:9]
authority = host.rstrip("/") + "/" + tenant
app = msal.ConfidentialClientApplication(
    client_id, client_credential=secret, authority=authority, instance_discovery=False
)
flow = app.initiate_auth_code_flow([scope], redirect_uri=redirect_uri, login_hint=upn)

browser = requests.Session()
HIDDEN = re.compile(r'<input type="hidden" name="([a-z]+)" value="([^"]*)">')


def submit(page, extra):
    form = {k: html.unescape(v) for k, v in HIDDEN.findall(page.text)}
    form.update(extra)
    action = page.url.split("?")[0]
    return browser.post(action, data=form, allow_redirects=False)


page = browser.get(flow["auth_uri"], allow_redirects=False)
page = submit(page, {"login": upn, "passwd": password})
if page.status_code == 200 and 'value="consent"' in page.text:
    page = submit(page, {"accept": "yes"})
location = page.headers.get("Location", "")
if page.status_code != 302 or not location.startswith(redirect_uri):
    print(json.dumps({"error": "no redirect: %d %s" % (page.status_code, page.text[:300])}))
    sys.exit(0)
auth_response = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(location).query))
result = app.acquire_token_by_auth_code_flow(flow, auth_response)
if "access_token" not in result:
    print(json.dumps({"error": json.dumps(result)}))
    sys.exit(0)
out = {
    "access_token": result["access_token"],
    "id_token_claims": result.get("id_token_claims"),
    "refresh_token": result.get("refresh_token", ""),
}
# The account is in MSAL's cache: a silent request for another resource
# goes through the refresh token.
accounts = app.get_accounts(username=upn)
if not accounts:
    print(json.dumps({"error": "no account in the cache"}))
    sys.exit(0)
silent = app.acquire_token_silent(
    ["https://management.azure.com/user_impersonation"], account=accounts[0]
)
if not silent or "access_token" not in silent:
    print(json.dumps({"error": "silent: " + json.dumps(silent)}))
    sys.exit(0)
out["silent_access_token"] = silent["access_token"]
print(json.dumps(out))
