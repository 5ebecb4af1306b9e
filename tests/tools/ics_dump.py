#!/usr/bin/python3
"""ics_dump.py - a second iCalendar parser for the tests, independent of
libical: python3-icalendar reads an .ics file and this prints what the
tests check, one line per item:

  VCALENDAR VERSION=2.0 METHOD=PUBLISH PRODID=... TIMEZONES=Europe/Paris
  VEVENT UID=s-1@fluxbus SEQUENCE=1 STATUS=CONFIRMED TZID=Europe/Paris DTSTART=2025-03-13T14:00:00+01:00

Exits 1 (with the reason on stderr) when the text does not parse as one
VCALENDAR, or a VEVENT lacks UID, DTSTAMP or DTSTART.

usage: /usr/bin/python3 ics_dump.py FILE.ics
"""
import sys

import icalendar


def dump(path):
    with open(path, "rb") as f:
        cal = icalendar.Calendar.from_ical(f.read())
    if cal.name != "VCALENDAR":
        raise ValueError("not a VCALENDAR: %s" % cal.name)
    zones = ",".join(str(tz["TZID"]) for tz in cal.walk("VTIMEZONE"))
    print("VCALENDAR VERSION=%s METHOD=%s PRODID=%s TIMEZONES=%s"
          % (cal.get("VERSION"), cal.get("METHOD"), cal.get("PRODID"), zones))
    for ev in cal.walk("VEVENT"):
        for required in ("UID", "DTSTAMP", "DTSTART"):
            if required not in ev:
                raise ValueError("VEVENT without %s" % required)
        start = ev["DTSTART"]
        print("VEVENT UID=%s SEQUENCE=%s STATUS=%s TZID=%s DTSTART=%s"
              % (ev["UID"], ev.get("SEQUENCE", 0), ev.get("STATUS", ""),
                 start.params.get("TZID", ""), start.dt.isoformat()))


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: ics_dump.py FILE.ics\n")
        return 2
    try:
        dump(argv[1])
    except Exception as e:  # any parse error is a failed check
        sys.stderr.write("ics_dump.py: %s: %s\n" % (argv[1], e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
