// Command localserver runs the receiver on a workstation: the same handler the
// Lambda runs, served over plain HTTP at http://localhost:$PORT/pbconnect.
//
// By default it keeps state in an embedded bbolt file and prints alerts; with
// STORE=dynamodb and ALERTS=sns it uses DynamoDB and SNS instead (a real
// account, or moto_server through AWS_ENDPOINT_URL). GET /items/{itemKey}
// shows what is stored for a cashbill.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/popbill-cashbill-webhook/receiver/functions/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/functions/internal/alert/consolealert"
	"github.com/popbill-cashbill-webhook/receiver/functions/internal/alert/snsalert"
	"github.com/popbill-cashbill-webhook/receiver/functions/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/functions/internal/httpapi"
	"github.com/popbill-cashbill-webhook/receiver/functions/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/functions/internal/state/boltstore"
	"github.com/popbill-cashbill-webhook/receiver/functions/internal/state/dynamostore"
	"github.com/popbill-cashbill-webhook/receiver/functions/internal/webhook"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, log); err != nil {
		log.Error("localserver stopped", "error", err.Error())
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string, log *slog.Logger) error {
	mux, closeStore, err := newMux(ctx, getenv, log)
	if err != nil {
		return err
	}
	defer closeStore()
	addr := "localhost:" + or(getenv("PORT"), "9854")
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	log.Info("receiver listening", "url", "http://"+addr+"/pbconnect")
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newMux wires the receiver's routes to the store and alert sink chosen by
// the environment. The returned func closes the store.
func newMux(ctx context.Context, getenv func(string) string, log *slog.Logger) (*http.ServeMux, func(), error) {
	noop := func() {}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, noop, err
	}
	rules, warning, err := config.ReadRules(ctx, getenv, ssm.NewFromConfig(awsCfg))
	if err != nil {
		return nil, noop, err
	}
	if warning != "" {
		log.Warn(warning)
	}

	var (
		store  state.Store
		reader state.Reader
	)
	closeStore := noop
	switch getenv("STORE") {
	case "", "bolt":
		path := or(getenv("STATE_FILE"), ".local/state.db")
		bolt, err := boltstore.Open(path)
		if err != nil {
			return nil, noop, err
		}
		closeStore = func() { bolt.Close() }
		store, reader = bolt, bolt
		log.Info("state store: embedded bbolt file", "path", path)
	case "dynamodb":
		table, err := config.Required(getenv, config.StateTable)
		if err != nil {
			return nil, noop, err
		}
		client := dynamodb.NewFromConfig(awsCfg)
		store, reader = dynamostore.New(client, table), dynamostore.NewReader(client, table)
		log.Info("state store: DynamoDB", "table", table)
	default:
		return nil, noop, errors.New("STORE must be bolt or dynamodb")
	}

	var alerts alert.Publisher
	switch getenv("ALERTS") {
	case "", "console":
		alerts = consolealert.New(os.Stdout)
	case "sns":
		topic, err := config.Required(getenv, config.AlertTopicARN)
		if err != nil {
			closeStore()
			return nil, noop, err
		}
		alerts = snsalert.New(sns.NewFromConfig(awsCfg), topic)
	default:
		closeStore()
		return nil, noop, errors.New("ALERTS must be console or sns")
	}

	h := webhook.New(webhook.Rules(rules), store, alerts, log)
	mux := http.NewServeMux()
	mux.Handle("POST /pbconnect", httpapi.Handler(h.Handle, webhook.MaxBody))
	mux.HandleFunc("GET /items/{itemKey}", func(w http.ResponseWriter, r *http.Request) {
		item, found, err := reader.Get(r.Context(), r.PathValue("itemKey"))
		switch {
		case err != nil:
			http.Error(w, "the store could not be read", http.StatusServiceUnavailable)
		case !found:
			http.Error(w, "no cashbill with that itemKey has been received", http.StatusNotFound)
		default:
			w.Header().Set("Content-Type", "application/json")
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			_ = enc.Encode(item)
		}
	})
	return mux, closeStore, nil
}

func or(v, fallback string) string {
	if v == "" {
		return fallback
	}
	return v
}
