"""Edit k8s.io/apiserver's pkg/cel/library/authz.go (a build-time copy) so that it no longer
imports k8s.io/apiserver/pkg/authentication/serviceaccount.

That package brings in k8s.io/api/core/v1 and client-go's typed clients, for one use:
authorizer.serviceAccount(namespace, name) builds the user.Info of a service account. The edit
builds the same user.Info directly: the name "system:serviceaccount:<namespace>:<name>", the
groups "system:serviceaccounts" and "system:serviceaccounts:<namespace>", no UID, no extra.

Usage: python3 patch-cel-authz.py <path of authz.go>   (edits the file in place; fails, and
leaves it as it was, when a line to edit is not found exactly once)
"""

import sys

ME = "runtime/self-hosted/patch-cel-authz.py"
EDITS = [
    ('\t"k8s.io/apiserver/pkg/authentication/serviceaccount"\n', ""),
    (
        "\tsa := &serviceaccount.ServiceAccountInfo{Name: name, Namespace: namespace}\n",
        "\t// the user.Info that ServiceAccountInfo{Name: name, Namespace: namespace}.UserInfo()\n"
        f"\t// returns, built here (an edit by the Dapr Jobs workbook's build: {ME})\n"
        "\tsa := &user.DefaultInfo{\n"
        '\t\tName:   "system:serviceaccount:" + namespace + ":" + name,\n'
        '\t\tGroups: []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace},\n'
        "\t}\n",
    ),
    ("\t\tuserInfo:              sa.UserInfo(),\n", "\t\tuserInfo:              sa,\n"),
]


def main(path: str) -> None:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for old, new in EDITS:
        found = text.count(old)
        if found != 1:
            sys.exit(f"{ME}: {path}: expected this line once, found it {found} times:\n{old}")
        text = text.replace(old, new)
    if "serviceaccount." in text:
        sys.exit(f"{ME}: {path}: still uses the serviceaccount package after the edit")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
