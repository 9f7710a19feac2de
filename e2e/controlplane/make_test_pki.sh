#!/bin/sh
# Writes a test PKI into DIR: a cluster CA, the API server's serving
# certificate for 127.0.0.1, client certificates (CN = user, O = group) and a
# second CA with a client certificate of its own (to be refused).
set -eu
dir=$1
cd "$dir"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1.key" 2>/dev/null; }
ca() {
  key "$1"
  openssl req -x509 -new -key "$1.key" -out "$1.crt" -days 2 -subj "/CN=$1" 2>/dev/null
}
cert() {  # name subject ca usage [san]
  key "$1"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
  printf 'extendedKeyUsage=%s\n' "$4" > "$1.ext"
  if [ $# -ge 5 ]; then printf 'subjectAltName=%s\n' "$5" >> "$1.ext"; fi
  openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" -CAcreateserial -out "$1.crt" -days 2 \
    -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
ca ca
cert server "/CN=berth-controlplane" ca serverAuth "IP:127.0.0.1,DNS:localhost"
cert admin "/O=system:masters/CN=kubernetes-admin" ca clientAuth
cert node1 "/O=system:nodes/CN=system:node:n1" ca clientAuth
cert bob "/CN=bob" ca clientAuth
ca other-ca
cert intruder "/O=system:masters/CN=intruder" other-ca clientAuth
