// Package localserver is the receiver on a workstation: the same handler the
// Lambda runs, served over plain HTTP at /pbconnect and, for Individual
// Webhooks, /pbconnect/{token}, on the adapters the environment chooses.
//
// By default it keeps state and the delivery archive in an embedded bbolt
// file and prints alerts; with STORE=dynamodb and ALERTS=sns it uses DynamoDB
// (STATE_TABLE), CloudWatch Logs for the archive (ARCHIVE_LOG_GROUP, package
// logarchive) and SNS instead (a real account, or moto_server through
// AWS_ENDPOINT_URL). GET /items/{itemKey}
// shows what is stored for a cashbill. Every SWEEP_INTERVAL (default 30s) it
// runs the sweeper and the overdue-result watchdog on its store, as
// SweeperFunction does in AWS every 5 minutes (sweep.go). Each stored
// stateCode increase is printed as a "Cashbill State Changed" event, or
// POSTed to EVENTS_URL; with STORE=dynamodb and EVENT_BUS_NAME, the forwarder
// also reads the table's stream into that bus (events.go).
package localserver

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/consolealert"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/snsalert"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive/boltarchive"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive/logarchive"
	"github.com/popbill-cashbill-webhook/receiver/internal/business"
	"github.com/popbill-cashbill-webhook/receiver/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/internal/httpapi"
	"github.com/popbill-cashbill-webhook/receiver/internal/ssmparam"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/boltstore"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/dynamostore"
	"github.com/popbill-cashbill-webhook/receiver/internal/webhook"
)

// Run serves until ctx is done. Logs and printed alerts go to stdout.
func Run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	log := slog.New(slog.NewJSONHandler(stdout, nil))
	// The port first: on a busy one, say so before anything else.
	addr := "localhost:" + or(getenv("PORT"), "9854")
	ln, err := listen(addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	srv, err := New(ctx, getenv, stdout, log)
	if err != nil {
		return err
	}
	defer srv.Close()
	hs := &http.Server{Addr: addr, Handler: srv, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(shutdown)
	}()
	log.Info("receiver listening", "url", "http://"+addr+"/pbconnect")
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// ErrPortBusy is Run's answer when another program holds its port.
var ErrPortBusy = errors.New("port busy")

// listen opens addr; a busy port is ErrPortBusy, in words that say what to do.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, portBusy(addr)
	}
	return ln, err
}

type portBusy string

func (p portBusy) Error() string {
	return string(p) + " is already in use (another make run?): stop it, or set PORT to another port, e.g. make run PORT=9855"
}

func (portBusy) Is(target error) bool { return target == ErrPortBusy }

// Server is the receiver's routes on the chosen adapters.
type Server struct {
	*http.ServeMux
	close func()
}

// Close releases the store.
func (s *Server) Close() { s.close() }

// New wires the routes to the store and alert sink chosen by getenv;
// console alerts are printed to stdout. Close the server when done.
func New(ctx context.Context, getenv func(string) string, stdout io.Writer, log *slog.Logger) (*Server, error) {
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	rules, warning, err := config.ReadRules(ctx, getenv, ssmparam.New(awsCfg, getenv))
	if err != nil {
		return nil, err
	}
	if warning != "" {
		log.Warn(warning)
	}
	store, reader, rec, closeStore, err := openStore(getenv, awsCfg, log)
	if err != nil {
		return nil, err
	}
	retention, err := config.ReadArchiveRetention(getenv)
	if err != nil {
		closeStore()
		return nil, err
	}
	alerts, err := alertSink(getenv, awsCfg, stdout)
	if err != nil {
		closeStore()
		return nil, err
	}
	settings, err := config.ReadOutbox(getenv)
	if err != nil {
		closeStore()
		return nil, err
	}
	sweep, err := startSweeper(getenv, store, alerts, settings, log)
	if err != nil {
		closeStore()
		return nil, err
	}
	announced, stopEvents, err := stateEvents(ctx, getenv, awsCfg, store, stdout, log)
	if err != nil {
		sweep.stop()
		closeStore()
		return nil, err
	}
	opts := []webhook.Option{webhook.WithArchive(rec, retention)}
	tokens, err := tokenLookup(getenv, awsCfg, store)
	if err != nil {
		stopEvents()
		sweep.stop()
		closeStore()
		return nil, err
	}
	if tokens != nil {
		opts = append(opts, webhook.WithBusinessTokens(business.NewResolver(tokens, nil)))
	}
	h := webhook.New(rules, announced, sweep.outbox, log, opts...)
	mux := http.NewServeMux()
	// Every method reaches the handler, which answers any but POST with its own
	// 405 in plain words and archives the attempt.
	mux.Handle("/pbconnect", httpapi.Handler(h.Handle, webhook.MaxBody))
	mux.Handle("/pbconnect/{token}", httpapi.Handler(h.Handle, webhook.MaxBody))
	mux.HandleFunc("GET /items/{itemKey}", items(reader))
	return &Server{ServeMux: mux, close: func() { stopEvents(); sweep.stop(); closeStore() }}, nil
}

// openStore opens the store STORE names and the delivery archive beside it
// (the same bbolt file, or the log group ARCHIVE_LOG_GROUP); the returned
// func closes them.
func openStore(getenv func(string) string, awsCfg aws.Config, log *slog.Logger) (state.Store, state.Reader, archive.Recorder, func(), error) {
	switch getenv("STORE") {
	case "", "bolt":
		path := or(getenv("STATE_FILE"), ".local/state.db")
		bolt, err := boltstore.Open(path)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		rec, err := boltarchive.New(bolt.DB())
		if err != nil {
			bolt.Close()
			return nil, nil, nil, nil, err
		}
		log.Info("state store and delivery archive: embedded bbolt file", "path", path)
		return bolt, bolt, rec, func() { bolt.Close() }, nil
	case "dynamodb":
		table, err := config.Required(getenv, config.StateTable)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		group, err := config.Required(getenv, config.ArchiveLogGroup)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		client := dynamodb.NewFromConfig(awsCfg)
		rec := logarchive.NewRecorder(cloudwatchlogs.NewFromConfig(awsCfg), group, LogStream)
		log.Info("state store: DynamoDB; delivery archive: CloudWatch Logs", "table", table, "archiveLogGroup", group, "logStream", LogStream)
		return dynamostore.NewQueues(client, client, table), dynamostore.NewReader(client, table), rec, func() {}, nil
	}
	return nil, nil, nil, nil, errors.New("STORE must be bolt or dynamodb")
}

// LogStream is the stream of ARCHIVE_LOG_GROUP the local server archives into.
const LogStream = "localserver"

// alertSink is the publisher ALERTS names.
func alertSink(getenv func(string) string, awsCfg aws.Config, stdout io.Writer) (alert.Publisher, error) {
	switch getenv("ALERTS") {
	case "", "console":
		return consolealert.New(stdout), nil
	case "sns":
		topic, err := config.Required(getenv, config.AlertTopicARN)
		if err != nil {
			return nil, err
		}
		return snsalert.New(sns.NewFromConfig(awsCfg), topic), nil
	}
	return nil, errors.New("ALERTS must be console or sns")
}

// items serves GET /items/{itemKey}: the stored item as JSON. Its errors take
// their status from webhook.Status, the one map from error kind to status.
func items(reader state.Reader) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		item, found, err := reader.Get(r.Context(), r.PathValue("itemKey"))
		switch {
		case err != nil:
			httpError(w, &webhook.Error{Kind: webhook.Unavailable, Message: "the store could not be read", Err: err})
		case !found:
			httpError(w, &webhook.Error{Kind: webhook.NotFound, Message: "no cashbill with that itemKey has been received"})
		default:
			w.Header().Set("Content-Type", "application/json")
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			_ = enc.Encode(item)
		}
	}
}

func httpError(w http.ResponseWriter, err error) {
	status, body := webhook.Status(err)
	http.Error(w, body, status)
}

func or(v, fallback string) string {
	if v == "" {
		return fallback
	}
	return v
}
