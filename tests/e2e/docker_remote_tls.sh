#!/usr/bin/env bash
# Docker executor against a daemon reached over tcp with TLS (executors §7.3 host,
# tls_verify, tls_cert_path with ca.pem/cert.pem/key.pem as the docker CLI uses them):
# a TLS endpoint that demands a client certificate signed by our CA (socat, terminating
# TLS in front of the engine's socket) runs the job; a CA that does not match fails the
# job as a system failure instead of hanging.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/../support/docker/lib.sh"
command -v socat >/dev/null || { echo "SKIP: socat is not installed"; exit 77; }
command -v openssl >/dev/null || { echo "SKIP: openssl is not installed"; exit 77; }
docker_setup

certs="$WORK/certs" && mkdir -p "$certs" && cd "$certs"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=e2e CA" -keyout ca-key.pem -out ca.pem 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server-key.pem -out server.csr 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > san.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile san.ext -out server.pem 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=runner" -keyout key.pem -out client.csr 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' > client.ext
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile client.ext -out cert.pem 2>/dev/null
mkdir -p "$WORK/other" && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
  -keyout "$WORK/other/ca-key.pem" -out "$WORK/other/ca.pem" 2>/dev/null
cp cert.pem key.pem "$WORK/other/"
cd "$WORK"

port=$((20000 + RANDOM % 20000))
socat "OPENSSL-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork,cert=$certs/server.pem,key=$certs/server-key.pem,cafile=$certs/ca.pem,verify=1" \
  UNIX-CONNECT:/var/run/docker.sock 2>"$WORK/socat.log" &
socat_pid=$!
PIDS+=("$socat_pid")
for _ in $(seq 1 50); do
  curl -fsS --max-time 2 --cacert "$certs/ca.pem" --cert "$certs/cert.pem" --key "$certs/key.pem" \
    "https://127.0.0.1:$port/_ping" >/dev/null 2>&1 && break
  sleep 0.1
done
# Without a client certificate the endpoint refuses: it really is the mutual-TLS path.
curl -fsS --max-time 2 --cacert "$certs/ca.pem" "https://127.0.0.1:$port/_ping" >/dev/null 2>&1 &&
  fail "the TLS endpoint accepted a client without a certificate"

start_fake_gitlab
control POST runners "glrt-t1_docktls01" >/dev/null
docker_config "$WORK/config.toml" glrt-t1_docktls01 "host = \"tcp://127.0.0.1:$port\"" \
  'tls_verify = true' "tls_cert_path = \"$certs\""
id=$(control POST jobs "$(job_json glrunner-test/sh:1 '["echo \"$GREETING over tls\""]')" | jq -r .id)
DOCKER_HOST=unix:///nonexistent.sock run_expect 0 "$GLRUNNER" run-single -r docker-e2e -c "$WORK/config.toml" \
  --max-builds 1 --wait-timeout 60 -d "$WORK"
control GET "jobs/$id" > "$WORK/record.json"
jq -r .trace "$WORK/record.json" > "$WORK/trace.txt"
[ "$(jq -r .state "$WORK/record.json")" = success ] || { cat "$WORK/trace.txt"; fail "job over TLS not successful"; }
expect_contains "$WORK/trace.txt" "hello from the job over tls"
expect_no_leftovers docktls01

# A CA that did not sign the server's certificate: the job fails, it does not hang.
docker_config "$WORK/config2.toml" glrt-t1_docktls01 "host = \"tcp://127.0.0.1:$port\"" \
  'tls_verify = true' "tls_cert_path = \"$WORK/other\""
id=$(control POST jobs "$(job_json glrunner-test/sh:1 '["echo never"]')" | jq -r .id)
DOCKER_HOST=unix:///nonexistent.sock run_expect 0 "$GLRUNNER" run-single -r docker-e2e -c "$WORK/config2.toml" \
  --max-builds 1 --wait-timeout 60 -d "$WORK"
control GET "jobs/$id" > "$WORK/record2.json"
[ "$(jq -r .state "$WORK/record2.json")" = failed ] || { jq . "$WORK/record2.json"; fail "job with a wrong CA did not fail"; }
[ "$(jq -r .failure_reason "$WORK/record2.json")" = runner_system_failure ] ||
  { jq -r .trace "$WORK/record2.json"; fail "wrong CA: expected runner_system_failure, got $(jq -r .failure_reason "$WORK/record2.json")"; }
echo ok
