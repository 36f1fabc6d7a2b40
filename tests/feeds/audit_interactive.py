#!/usr/bin/python3
"""audit_interactive.py -- drive `espigate audit --redirect-uri` as a person would:
read the authorization URL the auditor prints, approve it as the member on the real
consent page (third_party.consent), and paste the URL the browser would land on into
the auditor's standard input.  Exits with the auditor's status.

    audit_interactive.py LOGIN PASSWORD CA -- espigate audit --redirect-uri U ...
"""
import os
import re
import subprocess
import sys

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from third_party import consent  # noqa: E402

login, password, ca = sys.argv[1:4]
cmd = sys.argv[sys.argv.index("--") + 1:]
p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
url = None
for line in p.stderr:
    sys.stderr.write(line)
    m = re.search(r"(https://\S+/oauth/authorize\?\S+)", line)
    if m:
        url = m.group(1)
        break
if not url:
    p.kill()
    sys.exit("no authorization URL from the auditor")
member = requests.Session()
member.trust_env = False
member.verify = ca
sys.stdout = sys.stderr          # consent()'s check lines are not the report
resp, _ = consent(member, url, login, password)
p.stdin.write(resp.headers.get("Location", "") + "\n")
p.stdin.close()
for line in p.stderr:
    sys.stderr.write(line)
sys.exit(p.wait())
