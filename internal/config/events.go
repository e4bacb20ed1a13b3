package config

// EventBusName is the EventBridge bus the state-change forwarder puts
// "Cashbill State Changed" events on (docs/events.md).
const EventBusName = "EVENT_BUS_NAME"

// EventsURL, for the local server only, is where it POSTs each state-change
// event; empty prints them to stdout as JSON lines.
const EventsURL = "EVENTS_URL"

// EventsVariables are the state-change events' settings: the forwarder's
// bus, and the local server's sink.
var EventsVariables = []Variable{
	{Name: EventBusName, Doc: "The EventBridge bus the forwarder puts state-change events on; for `make run`, with STORE=dynamodb, it also runs the forwarder on the table's stream."},
	{Name: EventsURL, Doc: "Where `make run` POSTs each state-change event; empty prints them as JSON lines.", LocalOnly: true},
}
