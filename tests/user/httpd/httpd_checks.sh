#!/usr/bin/env bash
# The client-side checks of httpd, shared by the Linux test
# (httpd_linux_test.sh) and the Ringlet one (tests/qemu/httpd_test.sh): real
# curl, socat and wrk against a running server with the default site.
#
#   httpd_checks.sh PORT IDLE_MS WRK_SECONDS
#
# IDLE_MS is the server's --idle-timeout (the 408 check waits past it);
# WRK_SECONDS 0 skips the load. Prints one line per failure and exits 1 if
# any failed.
set -uo pipefail
port=$1 idle_ms=$2 wrk_s=$3
here=$(cd "$(dirname "$0")" && pwd)
site=$(cd "$here/../../../user/httpd/site" && pwd)
url=http://127.0.0.1:$port
failed=0
fail() { echo "FAILED: $*"; failed=1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
c() { curl -s --max-time 20 "$@"; }
code() { c -o /dev/null -w '%{http_code}' "$@"; }
# Sends raw bytes ($1, printf format) on one connection and prints the reply
# until the server closes (or 5 s of quiet).
raw() { printf "$1" | timeout 20 socat -t 5 -T 5 - "TCP:127.0.0.1:$port" 2>/dev/null | tr -d '\r'; }

# GET: status, type, exact body.
c -D "$tmp/h" -o "$tmp/index" "$url/" || fail "GET / did not complete"
grep -q "^HTTP/1.1 200 OK" "$tmp/h" || fail "GET /: $(head -1 "$tmp/h")"
grep -qi "^Content-Type: text/html" "$tmp/h" || fail "GET /: no text/html Content-Type"
cmp -s "$tmp/index" "$site/index.html" || fail "GET /: body differs from site/index.html"
[ "$(c "$url/style.css" | md5sum)" = "$(md5sum <"$site/style.css")" ] || fail "GET /style.css: body differs"
[ "$(c -o /dev/null -w '%{content_type}' "$url/style.css")" = "text/css; charset=utf-8" ] || fail "style.css type"
[ "$(c "$url/64k.bin" | wc -c)" = 65536 ] || fail "GET /64k.bin: not 65536 bytes"

# HEAD: the length, no body.
c -I "$url/64k.bin" >"$tmp/h"
grep -q "^HTTP/1.1 200 OK" "$tmp/h" || fail "HEAD: $(head -1 "$tmp/h")"
grep -qi "^Content-Length: 65536" "$tmp/h" || fail "HEAD /64k.bin: no Content-Length 65536"
[ "$(raw 'HEAD /1k.bin HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n' | sed -n '/^$/,$p' | wc -c)" -le 1 ] \
  || fail "HEAD sent a body"

# Keep-alive: four URLs in one curl, one connection.
out=$(c -w '%{http_code} %{size_download} %{num_connects}\n' -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
  "$url/" "$url/1k.bin" "$url/64k.bin" "$url/style.css")
[ "$(echo "$out" | awk '{s+=$3} END {print s}')" = 1 ] || fail "keep-alive: connections made: $out"
[ "$(echo "$out" | awk '$1 == 200' | wc -l)" = 4 ] || fail "keep-alive: not four 200s: $out"
echo "$out" | grep -q "^200 1024 " || fail "keep-alive: /1k.bin length: $out"
# HTTP/1.0 closes unless asked to keep the connection.
c -0 -D - -o /dev/null "$url/1k.bin" | grep -qi "^Connection: close" || fail "HTTP/1.0 without keep-alive not closed"

# Pipelining: three requests in one write, three answers in order.
got=$(raw 'GET /style.css HTTP/1.1\r\nHost: h\r\n\r\nGET /nope HTTP/1.1\r\nHost: h\r\n\r\nGET /style.css HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n' \
  | grep '^HTTP/1.1' | tr '\n' ' ')
[ "$got" = "HTTP/1.1 200 OK HTTP/1.1 404 Not Found HTTP/1.1 200 OK " ] || fail "pipelining: '$got'"
# Beyond the push budget (4 file responses in flight per connection): 24
# pipelined requests in one write are all answered.
reqs=""
for _ in $(seq 1 23); do reqs+='GET /64k.bin HTTP/1.1\r\nHost: h\r\n\r\n'; done  # raw()'s printf expands them
n=$(raw "${reqs}GET /1k.bin HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n" | grep -ao 'HTTP/1.1 200 OK' | wc -l)
[ "$n" = 24 ] || fail "24 pipelined requests: $n answers"

# Errors.
[ "$(code "$url/nope.html")" = 404 ] || fail "404"
c -X POST -d x -D "$tmp/h" -o /dev/null "$url/"
grep -q "^HTTP/1.1 405" "$tmp/h" && grep -qi "^Allow: GET, HEAD" "$tmp/h" || fail "POST: not 405 with Allow"
[ "$(code -X DELETE "$url/index.html")" = 405 ] || fail "DELETE: not 405"
[ "$(code "$url/$(head -c 3000 /dev/zero | tr '\0' a)")" = 414 ] || fail "a 3000-byte target: not 414"
[ "$(code -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' b)" "$url/")" = 431 ] || fail "9000 bytes of header: not 431"
[ "$(raw 'GET / HTTP/2.0\r\nHost: h\r\n\r\n' | head -1)" = "HTTP/1.1 505 HTTP Version Not Supported" ] || fail "505"
[ "$(raw 'GET / HTTP/1.1\r\n\r\n' | head -1)" = "HTTP/1.1 400 Bad Request" ] || fail "no Host: not 400"
[ "$(raw 'GET / HTTP/1.1\r\nHost : h\r\n\r\n' | head -1)" = "HTTP/1.1 400 Bad Request" ] || fail "space before colon"
[ "$(raw 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n' | head -1)" = "HTTP/1.1 413 Content Too Large" ] \
  || fail "a 100000-byte body: not 413"

# Traversal: refused with 400 before any lookup.
for t in '/../etc/passwd' '/%2e%2e/%2e%2e/etc/passwd' '/..%2f..%2fetc%2fpasswd' '/a/%2E%2E/index.html' '//etc/passwd'; do
  [ "$(code --path-as-is "$url$t")" = 400 ] || fail "traversal $t: not 400"
done
# ... which is not a framing error: the connection goes on.
got=$(raw 'GET http://h/../index.html HTTP/1.1\r\nHost: h\r\n\r\nGET /style.css HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n' \
  | grep '^HTTP/1.1' | tr '\n' ' ')
[ "$got" = "HTTP/1.1 400 Bad Request HTTP/1.1 200 OK " ] || fail "absolute-form traversal, then a request: '$got'"
[ "$(raw 'GET http://h/style.css HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n' | head -1)" = "HTTP/1.1 200 OK" ] \
  || fail "absolute-form"

# ETag / If-None-Match.
etag=$(c -D - -o /dev/null "$url/style.css" | tr -d '\r' | sed -n 's/^ETag: //Ip')
[ -n "$etag" ] || fail "no ETag"
[ "$(code -H "If-None-Match: $etag" "$url/style.css")" = 304 ] || fail "If-None-Match: not 304"
[ "$(code -H 'If-None-Match: "other"' "$url/style.css")" = 200 ] || fail "If-None-Match other tag: not 200"

# Smuggling: both framings, or two lengths: 400, and the connection closes
# (the smuggled request after it is never answered).
for req in 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /1k.bin HTTP/1.1\r\nHost: h\r\n\r\n' \
           'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nGET /1k.bin HTTP/1.1\r\nHost: h\r\n\r\n'; do
  got=$(raw "$req")
  # The first line by expansion, not `echo | head -1 | grep -q`: under
  # pipefail that pipeline fails now and then on a loaded host (head exits
  # after one line while echo still writes, and echo dies of SIGPIPE).
  [ "$(grep -c '^HTTP/1.1' <<<"$got")" = 1 ] && [[ ${got%%$'\n'*} == "HTTP/1.1 400"* ]] \
    || fail "smuggling: '$(echo "$got" | grep '^HTTP/1.1' | tr '\n' ' ')'"
done

# Idle timeout: a half-sent request is answered 408 and closed; meanwhile a
# client sending one byte a second holds only its own connection.
( for ch in G E T ' ' / x; do printf '%s' "$ch"; sleep 1; done ) \
  | timeout 30 socat -t 30 - "TCP:127.0.0.1:$port" >"$tmp/slow" 2>/dev/null &
slow=$!
sleep 1
[ "$(code "$url/1k.bin")" = 200 ] || fail "a slow client blocked another"
got=$( (printf 'GET / HTTP/1.1\r\nHo'; sleep $(( idle_ms / 1000 + 3 ))) \
  | timeout 40 socat -t 40 - "TCP:127.0.0.1:$port" 2>/dev/null | tr -d '\r' | head -1)
[ "$got" = "HTTP/1.1 408 Request Timeout" ] || fail "a stalled request: '$got', not 408"
wait $slow
if [ "$idle_ms" -lt 5000 ]; then
  grep -q "^HTTP/1.1 408" "$tmp/slow" || fail "the byte-a-second client was not timed out"
fi

# /stats
c "$url/stats" >"$tmp/stats"
grep -qE '^requests [1-9][0-9]*$' "$tmp/stats" || fail "/stats: no request count"
grep -qE '^core 0 requests [1-9]' "$tmp/stats" || fail "/stats: no per-core line"

# Load: every response 200 with the file's length.
if [ "$wrk_s" -gt 0 ]; then
  for f in 1k.bin:1024 64k.bin:65536; do
    out=$(wrk -t2 -c16 -d"${wrk_s}s" --timeout 10s -s "$here/wrk_check.lua" "$url/${f%%:*}" -- "${f##*:}" 2>&1)
    echo "$out" | grep -E "Requests/sec|wrk-check"
    line=$(echo "$out" | grep '^wrk-check:')
    case "$line" in
      "wrk-check: requests "*" bad 0 errors 0 timeouts "*) ;;
      *) fail "wrk ${f%%:*}: '${line:-no result}'" ;;
    esac
    echo "$out" | grep -q "Non-2xx" && fail "wrk ${f%%:*}: non-2xx responses"
    [ "$(echo "$line" | awk '{print $3}')" -gt 0 ] 2>/dev/null || fail "wrk ${f%%:*}: no requests"
  done
fi
[ "$(code "$url/")" = 200 ] || fail "not serving after the checks"
exit $failed
