package slacknotify

// Routes of the log field slackRoute: which of the routes a message took
// (never its URL).
const (
	routeBusiness = "business" // the business's own channel
	routeDefault  = "default"  // the "*" route, or the notifier's one webhook
)

// route is the incoming webhook for an alert of business corp: its own
// route, else the default, so that an alert is never left unrouted. An
// alarm (corp "") takes the default.
func (n *Notifier) route(corp string) (target, name string) {
	if u := n.routes[corp]; corp != "" && u != "" {
		return u, routeBusiness
	}
	if u := n.routes["*"]; u != "" {
		return u, routeDefault
	}
	return n.webhookURL, routeDefault
}
