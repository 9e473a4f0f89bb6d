#!/usr/bin/env bash
# Two builds of trainledger on a long log, taking turns: each checkout trains its own log of
# STEPS steps × 10 scalars (with THIS checkout's tools/bench/scale-child.ts, so both runs put the
# same values), then its own CLI (bin/trainledger.js, from its dist/: run `npx tsc -p
# tsconfig.json` in each first) runs plot, show (cold, then warm), plot again and replay --csv,
# twice per build. Prints wall time, CPU time and peak RSS of each, and sizes.
#
#   bash tools/bench/compare-builds.sh OLD_CHECKOUT NEW_CHECKOUT [STEPS]
set -u
old=${1:?old checkout}; new=${2:?new checkout}; steps=${3:-1000000}
child="$(cd "$(dirname "$0")" && pwd)/scale-child.ts"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for side in old new; do
  co=${!side}; d="$work/$side"; mkdir -p "$d"
  echo "== $side ($co): train $steps"
  (cd "$co" && /usr/bin/time -f "   train %e s %M KB" node --import tsx "$child" train "$d" "$steps" 10)
  (cd "$co" && node -e "const D=require('better-sqlite3');const db=new D('$d/run.sqlite');db.pragma('wal_checkpoint(TRUNCATE)');db.close();const s=require('fs').statSync('$d/run.sqlite').size;console.log('   log',s,'bytes',(s/($steps*10)).toFixed(2),'B/scalar')")
done
for round in 1 2; do
  for side in old new; do
    co=${!side}; d="$work/$side"; cli="node $co/bin/trainledger.js"
    rm -f "$d"/run.sqlite.snapshots* "$d/out.csv"
    echo "== $side, round $round"
    /usr/bin/time -f "   plot (no cache) %e s %U u %M KB" $cli plot "$d/run.sqlite" --metric loss_0 --out "$d/p.svg" >/dev/null
    /usr/bin/time -f "   show cold %e s %U u %M KB" $cli show "$d/run.sqlite" >/dev/null
    echo "   cache $(stat -c %s "$d/run.sqlite.snapshots") bytes"
    /usr/bin/time -f "   show warm %e s %U u %M KB" $cli show "$d/run.sqlite" >/dev/null
    /usr/bin/time -f "   plot (cache) %e s %U u %M KB" $cli plot "$d/run.sqlite" --metric loss_0 --out "$d/p.svg" >/dev/null
    /usr/bin/time -f "   replay --csv %e s %U u %M KB" $cli replay "$d/run.sqlite" --csv "$d/out.csv" >/dev/null
  done
done
uptime
