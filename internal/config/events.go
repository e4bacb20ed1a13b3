package config

// EventBusName is the EventBridge bus the state-change forwarder puts
// "Cashbill State Changed" events on (docs/events.md).
const EventBusName = "EVENT_BUS_NAME"

// EventsURL, for the local server only, is where it POSTs each state-change
// event; empty prints them to stdout as JSON lines.
const EventsURL = "EVENTS_URL"
