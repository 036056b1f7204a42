#!/bin/sh
# run_spin.sh MODEL WORKDIR [good|mutant]: verifies MODEL with spin. "good":
# no assertion may fail and all messages must arrive (liveness under weak
# fairness). "mutant": the model built with -DBUG_FULL_CHECK must be caught.
set -eu
model=$1 work=$2 mode=${3:-good}
mkdir -p "$work"
cd "$work"
if [ "$mode" = mutant ]; then
    spin -DBUG_FULL_CHECK -a "$model" >/dev/null
    cc -O2 -DSAFETY -o pan_mutant pan.c
    if ./pan_mutant -m100000 -n >mutant.out 2>&1 && grep -q 'errors: 0' mutant.out; then
        cat mutant.out
        echo "FAIL: spin did not catch the off-by-one full check"
        exit 1
    fi
    grep -E 'assertion violated|errors:' mutant.out
    echo "PASS: the mutant is caught"
    exit 0
fi
spin -a "$model" >/dev/null
# Safety: assertions and invalid end states, every interleaving.
cc -O2 -DSAFETY -o pan_safety pan.c
./pan_safety -m100000 -n >safety.out 2>&1
cat safety.out | grep -E 'errors:|states, stored|depth reached'
grep -q 'errors: 0' safety.out || { cat safety.out; exit 1; }
# Liveness: the LTL property under weak fairness (a side that can move, moves).
cc -O2 -o pan_live pan.c
./pan_live -a -f -m100000 -n -N all_delivered >live.out 2>&1
grep -E 'errors:' live.out
grep -q 'errors: 0' live.out || { cat live.out; exit 1; }
echo "PASS"
