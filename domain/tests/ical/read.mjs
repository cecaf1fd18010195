// What Mozilla's ical.js (Thunderbird's iCalendar parser) reads in one iCalendar object given
// on standard input, printed as JSON for the Python tests (domain/tests/icaljs.py). A parse
// error ends the process with its message on standard error and a non-zero status.
import ICAL from "ical.js";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const root = new ICAL.Component(ICAL.parse(Buffer.concat(chunks).toString("utf8")));

const params = (property) => Object.fromEntries(
  Object.entries(property.toJSON()[1]).map(([name, value]) => [name.toLowerCase(), value]),
);
const address = (property) => property && { value: property.getFirstValue(), params: params(property) };
const instant = (time) => ({ utc: time.toJSDate().toISOString(), zone: time.zone ? time.zone.tzid : null });

console.log(JSON.stringify({
  method: root.getFirstPropertyValue("method"),
  properties: root.getAllProperties().map((p) => p.name),
  timezones: root.getAllSubcomponents("vtimezone").map((tz) => tz.getFirstPropertyValue("tzid")),
  events: root.getAllSubcomponents("vevent").map((vevent) => {
    const event = new ICAL.Event(vevent);
    return {
      uid: event.uid,
      sequence: event.sequence,
      summary: event.summary,
      location: event.location,
      status: vevent.getFirstPropertyValue("status"),
      dtstamp: vevent.getFirstPropertyValue("dtstamp")?.toString() ?? null,
      start: instant(event.startDate),
      end: instant(event.endDate),
      organizer: address(vevent.getFirstProperty("organizer")),
      attendees: vevent.getAllProperties("attendee").map(address),
    };
  }),
}));
