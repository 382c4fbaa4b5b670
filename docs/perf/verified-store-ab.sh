#!/bin/sh
# A/B of base e049510 vs head (verified-store), interleaved: cold start (1 run each, 3 rounds) then read-hot max throughput (5 s each, 3 rounds)
cd /work/wt-store
node docs/perf/verified-store-cold.mjs  # builds /tmp/st/build-base from a git archive of e049510 in /tmp/st/base, and /tmp/st/build-head
for r in 1 2 3; do
  for who in base head; do
    npm run -s load -- read-hot --max --duration 5 --no-ceiling --bundle /tmp/st/build-$who/$(ls /tmp/st/build-$who | grep '\.js$' | head -1) --out /tmp/st/rh-$who-$r.json > /tmp/st/rh-$who-$r.log 2>&1
    echo "$r $who $(grep -o '"throughput_rps":[0-9.]*' /tmp/st/rh-$who-$r.json | head -1) $(grep -o '"p95_ms":{[^}]*}' /tmp/st/rh-$who-$r.json | head -1)"
  done
done
