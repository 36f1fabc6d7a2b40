#!/bin/sh
# make-dev-certs.sh [DIR] -- a development CA and a localhost server certificate.
#
# Makes, in DIR (default: certs/dev next to this script, git-ignored):
#   ca.pem, ca.key          a private development CA (10 years)
#   server.pem, server.key  a server certificate for localhost, 127.0.0.1 and
#                           ::1 (subjectAltName), signed by that CA (397 days)
# Keys are ECDSA P-256 (the ECDHE-ECDSA suites GBA material cites), files
# are mode 600.  Idempotent: valid existing files are kept; a server
# certificate that expires within a day, lacks the SANs, does not verify
# against ca.pem or does not match its key is made again.  Clients trust
# ca.pem (curl --cacert DIR/ca.pem).  Never use these in production.
set -eu

dir=${1:-$(dirname "$0")/dev}
mkdir -p "$dir"
umask 077
cd "$dir"

made=""
ca_ok() {
    [ -s ca.pem ] && [ -s ca.key ] &&
        openssl x509 -in ca.pem -noout -checkend 86400 >/dev/null 2>&1 &&
        [ "$(openssl x509 -in ca.pem -noout -pubkey 2>/dev/null)" = \
          "$(openssl pkey -in ca.key -pubout 2>/dev/null)" ]
}
server_ok() {
    [ -s server.pem ] && [ -s server.key ] &&
        openssl x509 -in server.pem -noout -checkend 86400 >/dev/null 2>&1 &&
        openssl verify -CAfile ca.pem server.pem >/dev/null 2>&1 &&
        openssl x509 -in server.pem -noout -ext subjectAltName 2>/dev/null |
            grep -q 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1' &&
        [ "$(openssl x509 -in server.pem -noout -pubkey 2>/dev/null)" = \
          "$(openssl pkey -in server.key -pubout 2>/dev/null)" ]
}

if ! ca_ok; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout ca.key -out ca.pem -days 3650 -subj "/CN=espigate development CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    rm -f server.pem      # a new CA invalidates the old server certificate
    made="$made ca.pem ca.key"
fi

if ! server_ok; then
    ext=$(mktemp)
    trap 'rm -f "$ext" server.csr' EXIT
    cat >"$ext" <<'EXT'
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
EXT
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
        -set_serial "0x$(openssl rand -hex 16)" -days 397 -sha256 \
        -extfile "$ext" -out server.pem 2>/dev/null
    made="$made server.pem server.key"
fi

if [ -n "$made" ]; then
    echo "made in $(pwd):$made"
else
    echo "kept valid files in $(pwd): ca.pem ca.key server.pem server.key"
fi
