#!/usr/bin/env bash
# check_demo.sh BUILD_DIR - runs the end-to-end demo (demo/run) on the
# binaries of BUILD_DIR in a temporary directory, then checks each actor's
# view of the week against what the scenario must produce: the broker's
# store (who sent and received what, acknowledged), the bailleur's spool
# (done/, rejected/, outbox/ with households opened), the platforms' event
# logs, the commune's feeds (the ICS parsed by an independent parser,
# python3-icalendar) and the SNE exchange.
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/fluxbus-demo-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
work=$tmp/work out=$tmp/demo.out
failures=0
check() { # check DESCRIPTION EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: expected [$2], got [$3]"; failures=$((failures + 1)); fi
}

FLUXBUS_BUILD_DIR=$build FLUXBUS_DEMO_WORK=$work "$src/demo/run" > "$out" 2>&1 || {
  cat "$out"; echo "FAIL the demo exited with an error"; exit 1; }
cd "$work"

B=bailleur:552046955 AL=reservataire:action-logement ETAT=reservataire:prefet-74
C=commune:74010 S=sne:national
sent() { sqlite3 bus.db "SELECT count(*) FROM messages WHERE sender='$1' AND type=$2"; }
got() { sqlite3 bus.db "SELECT count(*) FROM deliveries d JOIN messages m ON m.seq=d.seq WHERE d.recipient='$1' AND m.type=$2 AND d.acked_at_ms>0"; }
pending() { sqlite3 bus.db "SELECT count(*) FROM deliveries WHERE acked_at_ms=0"; }
to() { sqlite3 bus.db "SELECT count(*) FROM deliveries d JOIN messages m ON m.seq=d.seq WHERE d.recipient='$1' AND m.type=$2"; }

echo "-- the broker's store"
check "bailleur sent 4 LogementLibere" 4 "$(sent $B 1)"
check "bailleur sent 3 Orientation" 3 "$(sent $B 2)"
check "the broker sent 1 DeadlineExpired (vac-2026-0103)" 1 "$(sent broker 7)"
check "bailleur sent no DeadlineExpired (the broker tells deadlines)" 0 "$(sent $B 7)"
check "bailleur sent 1 CaleolSeance" 1 "$(sent $B 9)"
check "bailleur sent 3 CaleolDecision" 3 "$(sent $B 10)"
check "bailleur sent 2 PropositionReponse" 2 "$(sent $B 11)"
check "bailleur sent 1 AttributionNonSuivieDeBail" 1 "$(sent $B 12)"
check "bailleur sent 1 BailSigne" 1 "$(sent $B 13)"
check "AL sent 1 OrientationAck" 1 "$(sent $AL 3)"
check "AL sent 3 Designation" 3 "$(sent $AL 5)"
check "State sent 1 RemiseADisposition" 1 "$(sent $ETAT 6)"
check "SNE sent 1 SneRadiationAck" 1 "$(sent $S 14)"
check "AL received 1 Orientation" 1 "$(got $AL 2)"
check "State received 2 Orientation" 2 "$(got $ETAT 2)"
check "State received the DeadlineExpired" 1 "$(got $ETAT 7)"
check "bailleur received the DeadlineExpired" 1 "$(got $B 7)"
check "AL received no DeadlineExpired" 0 "$(got $AL 7)"
check "AL received 3 CaleolDecision" 3 "$(got $AL 10)"
check "AL received the BailSigne" 1 "$(got $AL 13)"
check "State received no Designation" 0 "$(got $ETAT 5)"
check "State received no BailSigne" 0 "$(got $ETAT 13)"
check "bailleur received 3 Designation" 3 "$(got $B 5)"
check "bailleur received the SneRadiationAck" 1 "$(got $B 14)"
check "commune received 4 LogementLibere" 4 "$(got $C 1)"
check "commune received the CaleolSeance" 1 "$(got $C 9)"
check "commune received no Designation" 0 "$(got $C 5)"
check "commune received no CaleolDecision" 0 "$(got $C 10)"
check "commune received no BailSigne" 0 "$(got $C 13)"
check "commune received LogementIssue (attribué, non suivi, bail signé)" 3 "$(got $C 18)"
check "SNE received the 3 CaleolDecision" 3 "$(got $S 10)"
check "SNE received the AttributionNonSuivieDeBail" 1 "$(got $S 12)"
check "SNE received the BailSigne" 1 "$(got $S 13)"
check "bailleur sent 2 Convention (Action Logement, the State)" 2 "$(sent $B 15)"
check "AL received its Convention" 1 "$(got $AL 15)"
check "State received its Convention" 1 "$(got $ETAT 15)"
decomptes=$(sent broker 16) decomptes_al=$(to $AL 16) decomptes_etat=$(to $ETAT 16)
check "the broker sent DecompteDroits to AL (after changes of the counts)" yes "$([ "$decomptes_al" -ge 2 ] && echo yes || echo "no: $decomptes_al")"
check "the broker sent DecompteDroits to the State" yes "$([ "$decomptes_etat" -ge 1 ] && echo yes || echo "no: $decomptes_etat")"
check "each DecompteDroits to AL or the State" "$decomptes" "$((decomptes_al + decomptes_etat))"
check "AL received each of its DecompteDroits" "$decomptes_al" "$(got $AL 16)"
check "State received each of its DecompteDroits" "$decomptes_etat" "$(got $ETAT 16)"
check "bailleur received each DecompteDroits" "$decomptes" "$(got $B 16)"
check "nobody else sent a DecompteDroits" "$decomptes" "$(sqlite3 bus.db "SELECT count(*) FROM messages WHERE type=16")"
check "nothing left unacknowledged" 0 "$(pending)"

echo "-- the bailleur's spool"
check "files in done/ (9 + their receipts)" 18 "$(ls bailleur/done | wc -l)"
check "the bad CSV in rejected/ with its error report" 2 "$(ls bailleur/rejected | wc -l)"
check "error report names line 2, column typologie" "2 typologie" \
  "$(node -e 'const d=require(process.argv[1]);const e=(d.errors||[d])[0];console.log(e.line+" "+(e.column||e.field))' "$work/bailleur/rejected/LogementLibere-bad.csv.error.json")"
check "3 designations in the outbox" 3 "$(ls bailleur/outbox | grep -c -- -Designation-)"
check "the broker's DeadlineExpired in the outbox, for vac-2026-0103" "broker vac-2026-0103" \
  "$(node -e 'const d=require(process.argv[1]);console.log(d.sender+" "+d.payload.vacancy_id)' "$PWD/$(ls bailleur/outbox/*-DeadlineExpired-*.json | head -1)")"
check "households opened in the outbox" "Marchetti Ouedraogo Delorme-Vidal" \
  "$(for f in bailleur/outbox/*-Designation-*.json; do node -e 'const d=require(process.argv[1]);console.log(d.payload.rank+" "+d.household.members[0].family_name)' "$PWD/$f"; done | sort | cut -d' ' -f2 | xargs)"
check "SNE radiation acknowledged RADIEE" SNE_RADIATION_STATUS_RADIEE \
  "$(node -e 'const d=require(process.argv[1]);console.log(d.payload.status)' "$PWD/$(ls bailleur/outbox/*-SneRadiationAck-*.json | head -1)")"
check "each DecompteDroits in the outbox" "$decomptes" "$(ls bailleur/outbox | grep -c -- -DecompteDroits-)"

echo "-- the platforms' event logs (GET /events)"
events() { # events FILE DIRECTION: "Type" of each event, sorted, counted
  node -e 'const d=require(process.argv[1]);const c={};for(const e of d) if(e.direction===process.argv[2]) c[e.type]=(c[e.type]||0)+1;console.log(Object.keys(c).sort().map(k=>k+"="+c[k]).join(" "))' "$work/$1" "$2"
}
check "Action Logement received" \
  "AttributionNonSuivieDeBail=1 BailSigne=1 CaleolDecision=3 CaleolSeance=1 Convention=1 DecompteDroits=$decomptes_al LogementLibere=4 Orientation=1 PropositionReponse=2" \
  "$(events al-events.json received)"
check "Action Logement's last décompte: sequence, broker, 4 freed (3 in the flux), 1 1 1 by the three methods, official 1 of 12" \
  "$decomptes_al broker 3 1 1 1 1 1 12 11" \
  "$(node -e 'const d=require(process.argv[1]).filter(e=>e.type==="DecompteDroits").pop().message, p=d.payload;
    console.log([p.sequence, d.sender, p.logements_liberes, p.hors_flux, p.count_orientation_acceptee, p.count_passage_caleol,
      p.count_bail_signe, p.done, p.objective, p.remaining].join(" "))' "$work/al-events.json")"
check "Action Logement sent" "Designation=3 OrientationAck=1" "$(events al-events.json sent)"
check "the State received" "Convention=1 DeadlineExpired=1 DecompteDroits=$decomptes_etat LogementLibere=4 Orientation=2" "$(events etat-events.json received)"
check "the State sent" "RemiseADisposition=1" "$(events etat-events.json sent)"
check "no household in the platforms' event logs of sent designations" 0 \
  "$(grep -c -e Marchetti -e Ouedraogo al-events.json || true)"

echo "-- the SNE exchange"
check "SNE records: 2 attributions, 1 not followed by a lease, 1 radiation" \
  "attribution attribution non_suivie radiation" \
  "$(ls sne-exchange/requests/done | cut -d. -f1 | sort | xargs)"
check "each SNE record answered" 4 "$(ls sne-exchange/answers/done | wc -l)"

echo "-- the commune's feeds"
check "ICS parses with python3-icalendar: one event, sequence, status" \
  "caleol-552046955-annecy-nord" \
  "$(/usr/bin/python3 - caleol.ics <<'PY'
import sys, icalendar
cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())
ev = [c for c in cal.walk('VEVENT')]
assert len(ev) == 1, len(ev)
assert str(ev[0]['STATUS']) == 'CONFIRMED', ev[0]['STATUS']
assert ev[0]['DTSTART'].dt.tzinfo is not None
print(str(ev[0]['UID']).split('@')[0].rsplit('-', 3)[0])
PY
)"
check "no NUR nor name in the commune's feeds" 0 \
  "$(grep -c -e 074112500004217 -e 074032600000881 -e Marchetti -e Ouedraogo logements.json logements.csv caleol.ics | awk -F: '{s+=$2} END {print s}')"

echo "-- what the bus refuses"
check "an orientation en flux under no convention: INVALID_TRANSITION" 1 \
  "$(grep -c 'reason=INVALID_TRANSITION detail="Orientation of vac-2026-0102 to reservataire:action-logement names no convention' "$out")"
check "an orientation with less time than the convention's délai: INVALID_TRANSITION" 1 \
  "$(grep -c 'reason=INVALID_TRANSITION detail="Orientation of vac-2026-0102 .* shorter than the 10 days convention conv-2026-74-al' "$out")"

echo "-- the year's accounts (report flux / report bilan)"
flux() { node -e "const d=require('./report-flux.json'); const c=d.conventions.find(c=>c.convention_id==='$1'); console.log($2)"; }
check "AL's convention: 1 lease counted, officially at the lease" "1 bail_signe" \
  "$(flux conv-2026-74-al 'c.total.counts.official + " " + c.counting.official_method')"
check "AL's convention: 3 candidates, 2 attributions, 1 lease" "3 2 1" \
  "$(flux conv-2026-74-al '[c.total.designations, c.total.caleol.attributions, c.total.leases].join(" ")')"
check "the bilan: 2 attributions, 1 lease" "2 1" \
  "$(node -e "const d=require('./report-bilan.json'); console.log(d.total.attributions + ' ' + d.total.leases)")"
check "the bilan judges the legal priority objective (25 %) for the EPCI: pass" "25 pass" \
  "$(node -e "const d=require('./report-bilan.json'); const o=d.epcis[0].objectives.find(o=>o.objective==='prioritaires'&&!o.reservataire); console.log(o.target.pct + ' ' + o.status)")"
check "the HTML pages and the CSV are written" 3 \
  "$(ls report-flux.html report-bilan.html report-bilan.csv 2>/dev/null | wc -l)"

echo "-- confidentiality and audit"
check "no NUR nor household name in the bailleur adapter's log" 0 \
  "$(grep -a -c -e 074112500004217 -e 074032600000881 -e 074092400012345 -e Marchetti -e Ouedraogo -e Delorme-Vidal bailleur.log || true)"
check "no household name in the broker's files" 0 \
  "$(cat bus.db* broker.log | grep -a -c -e Marchetti -e Ouedraogo -e Delorme-Vidal || true)"
check "audit chain verified by fluxbus and by the independent implementation" 2 \
  "$(grep -c -E '(ok: [0-9]+ messages|verified [0-9]+ messages), chain head' "$out")"

if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed; demo output:"; cat "$out"; exit 1
fi
echo "all checks passed"
