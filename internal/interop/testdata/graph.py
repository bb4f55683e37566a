"""Drives Steward's Microsoft Graph with raw REST calls, as azure-identity
samples do without an msgraph SDK: a Graph token from the administrator's
credential, then applications, a service principal, a group with a member,
a user, queries and an error; finally the new app signs in with the secret
Graph gave it. argv[1] is Graph's base URL ({endpoint}graph/v1.0)."""
import sys

import requests
from azure.identity import ClientSecretCredential

from common import credential, emit, ENV, ARM_SCOPE

BASE = sys.argv[1].rstrip("/")
TOKEN = credential().get_token("https://graph.microsoft.com/.default").token
S = requests.Session()
S.headers["Authorization"] = "Bearer " + TOKEN


def call(method, path, body=None, headers=None, ok=(200, 201, 204)):
    url = path if path.startswith("https://") else BASE + path
    r = S.request(method, url, json=body, headers=headers or {})
    if r.status_code not in ok:
        raise SystemExit("%s %s: %d %s" % (method, path, r.status_code, r.text))
    return r.json() if r.text else None


out = {}
app = call("POST", "/applications", {"displayName": "py-app", "identifierUris": ["api://py-app"]})
secret = call("POST", "/applications/%s/addPassword" % app["id"], {"passwordCredential": {"displayName": "py"}})
sp = call("POST", "/servicePrincipals", {"appId": app["appId"]})
found = call("GET", "/applications?$filter=appId eq '%s'" % app["appId"])["value"]
out["filteredApps"] = [a["id"] for a in found]
out["appId"], out["appObjectId"], out["spId"] = app["appId"], app["id"], sp["id"]

group = call("POST", "/groups", {"displayName": "py-group", "mailNickname": "py-group",
                                 "mailEnabled": False, "securityEnabled": True})
call("POST", "/groups/%s/members/$ref" % group["id"],
     {"@odata.id": BASE + "/directoryObjects/" + sp["id"]})
out["members"] = [m["id"] for m in call("GET", "/groups/%s/transitiveMembers" % group["id"])["value"]]
user = call("POST", "/users", {"accountEnabled": True, "displayName": "Py", "mailNickname": "py",
                               "userPrincipalName": "py@steward.test",
                               "passwordProfile": {"password": "Corr3ct-Horse!"}})
out["byIds"] = sorted(o["@odata.type"] for o in call(
    "POST", "/directoryObjects/getByIds", {"ids": [user["id"], group["id"], sp["id"]]})["value"])

counted = call("GET", "/applications?$count=true&$top=1", headers={"ConsistencyLevel": "eventual"})
pages, link = 1, counted.get("@odata.nextLink")
while link:
    pages += 1
    link = call("GET", link, headers={"ConsistencyLevel": "eventual"}).get("@odata.nextLink")
out["count"], out["pages"] = counted["@odata.count"], pages

r = S.get(BASE + "/applications/00000000-0000-4000-8000-000000000000")
err = r.json()["error"]
out["notFound"] = {"status": r.status_code, "code": err["code"],
                   "requestId": err["innerError"]["request-id"]}

cred = ClientSecretCredential(ENV["AZURE_TENANT_ID"], app["appId"], secret["secretText"],
                              authority=ENV["AZURE_AUTHORITY_HOST"], instance_discovery=False)
out["newAppToken"] = cred.get_token(ARM_SCOPE).token
emit(out)
