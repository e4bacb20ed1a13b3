package operator

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/alert/snsalert"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive/boltarchive"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive/logarchive"
	"github.com/popbill-cashbill-webhook/receiver/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/internal/outbox"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/boltstore"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/dynamostore"
)

// DefaultLocalFile is the store of make run.
const DefaultLocalFile = ".local/state.db"

// Target is where the tool reads: the local file, or the DynamoDB table
// and the archive's log group named directly or by a stack's outputs.
type Target struct {
	Local                              localFlag
	Stack                              string
	StateTable, ArchiveLogGroup, Topic string
}

// localFlag is --local or --local=PATH.
type localFlag struct {
	set  bool
	path string
}

func (l *localFlag) String() string { return l.path }
func (l *localFlag) Set(v string) error {
	l.set = true
	l.path = v
	if v == "true" {
		l.path = DefaultLocalFile
	}
	return nil
}
func (l *localFlag) IsBoolFlag() bool { return true }

func (t *Target) register(fs *flag.FlagSet) {
	fs.Var(&t.Local, "local", "read the bbolt file of make run: --local or --local=PATH (default "+DefaultLocalFile+")")
	fs.StringVar(&t.Stack, "stack", "", "read the deployed stack NAME (its outputs name the tables)")
	fs.StringVar(&t.StateTable, "state-table", "", "the state table (default $STATE_TABLE)")
	fs.StringVar(&t.ArchiveLogGroup, "archive-log-group", "", "the delivery archive's log group (default $ARCHIVE_LOG_GROUP)")
	fs.StringVar(&t.Topic, "topic", "", "the alert topic, for replays that publish (default $ALERT_TOPIC_ARN)")
}

// Backend is what the commands read and, for replay, write.
type Backend struct {
	State   state.Reader
	Archive archive.Reader
	// Queues lists what is due: pending alerts, results awaited (alerts).
	Queues state.Queues
	// For replay: the handler's dependencies and the settings its rules read.
	Store state.Store
	// Alerts publishes the alerts replays owe; nil on the local store,
	// whose alerts are printed (Local).
	Alerts alert.Publisher
	// Storms are the storm windows the outbox routes failure alerts
	// through, as the deployment's does; nil: none.
	Storms outbox.Storms
	// Outbox is the deployment's alert settings (the environment, business
	// names, runbook and logs links, the storm policy), for the alerts that
	// replay and resend publish.
	Outbox    outbox.Settings
	Local     bool
	Recorder  archive.Recorder
	Retention time.Duration
	Getenv    func(string) string
	Close     func()
}

// Open opens the backend t chooses; write is for replay.
func Open(ctx context.Context, t Target, write bool) (*Backend, error) {
	return open(ctx, t, write, os.Getenv)
}

func open(ctx context.Context, t Target, write bool, getenv func(string) string) (*Backend, error) {
	if t.Stack == "" && !t.Local.set {
		t.StateTable = or(t.StateTable, getenv(config.StateTable))
		t.ArchiveLogGroup = or(t.ArchiveLogGroup, getenv(config.ArchiveLogGroup))
		t.Topic = or(t.Topic, getenv(config.AlertTopicARN))
	}
	if t.Stack == "" && t.ArchiveLogGroup == "" {
		path := DefaultLocalFile
		if t.Local.set {
			path = t.Local.path
		}
		return OpenLocal(path, write, getenv)
	}
	cfg, err := loadAWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	settings := getenv
	if t.Stack != "" {
		d, err := resolveStack(ctx, cloudformation.NewFromConfig(cfg), t.Stack)
		if err != nil {
			return nil, err
		}
		t.StateTable, t.ArchiveLogGroup, t.Topic = d.StateTable, d.ArchiveLogGroup, d.Topic
		settings = func(name string) string { return d.Settings[name] }
	}
	// The logs link's region is the deployment's, as Lambda sets it.
	withRegion := func(name string) string {
		if name == awsRegion {
			return or(settings(name), cfg.Region)
		}
		return settings(name)
	}
	if t.StateTable == "" {
		return nil, exit(ExitUsage, "name the state table too (--state-table or STATE_TABLE), or use --stack")
	}
	retention, err := config.ReadArchiveRetention(settings)
	if err != nil {
		return nil, badSetting(err)
	}
	alerts, err := config.ReadOutbox(withRegion)
	if err != nil {
		return nil, badSetting(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	logs := cloudwatchlogs.NewFromConfig(cfg)
	queues := dynamostore.NewQueues(db, db, t.StateTable)
	b := &Backend{
		State: dynamostore.NewReader(db, t.StateTable), Archive: logarchive.NewReader(logs, t.ArchiveLogGroup, retention),
		Queues: queues, Storms: queues, Outbox: alerts,
		Store: dynamostore.New(db, t.StateTable), Recorder: logarchive.NewRecorder(logs, t.ArchiveLogGroup, logarchive.ToolStream),
		Retention: retention, Getenv: settings, Close: func() {},
	}
	if t.Topic != "" {
		b.Alerts = snsalert.New(sns.NewFromConfig(cfg), t.Topic)
	}
	return b, nil
}

// CloudFormationAPI is the one call --stack makes.
type CloudFormationAPI interface {
	DescribeStacks(ctx context.Context, params *cloudformation.DescribeStacksInput, optFns ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

// stackOutputs returns the stack's outputs and parameters by key.
func stackOutputs(ctx context.Context, api CloudFormationAPI, name string) (outputs, params map[string]string, err error) {
	out, err := api.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil {
		return nil, nil, fmt.Errorf("describe stack %s: %w", name, err)
	}
	if len(out.Stacks) == 0 {
		return nil, nil, exit(ExitNotFound, "no stack %s", name)
	}
	outputs, params = map[string]string{}, map[string]string{}
	for _, o := range out.Stacks[0].Outputs {
		outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	for _, p := range out.Stacks[0].Parameters {
		params[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	return outputs, params, nil
}

// OpenLocal opens the bbolt file of make run: read-only for lookups, so two
// lookups may run at once, read-write for replay. bbolt locks the file for
// one writer or many readers; make run holds it for writing as long as it
// runs, so the tool waits a second, then says so (ExitBusy).
func OpenLocal(path string, write bool, getenv func(string) string) (*Backend, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, exit(ExitNotFound, "no local store at %s: start make run and send it an event first", path)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: !write})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, exit(ExitBusy, "%s is held by another process, most likely make run: bbolt lets one process use it at a time. Stop make run (Ctrl-C) and run this again", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	store, err := boltstore.Wrap(db)
	if err != nil {
		db.Close()
		return nil, err
	}
	arch, err := boltarchive.New(db)
	if err != nil {
		db.Close()
		return nil, err
	}
	retention, err := config.ReadArchiveRetention(getenv)
	if err != nil {
		db.Close()
		return nil, badSetting(err)
	}
	alerts, err := config.ReadOutbox(getenv)
	if err != nil {
		db.Close()
		return nil, badSetting(err)
	}
	b := &Backend{
		State: store, Archive: arch, Queues: store, Store: store, Recorder: arch, Retention: retention,
		Outbox: alerts, Local: true, Getenv: getenv, Close: func() { db.Close() },
	}
	// As make run: storms go into digests only where its sweeper publishes them.
	if every, err := config.ReadSweepInterval(getenv); err == nil && every > 0 {
		b.Storms = store
	}
	return b, nil
}

// awsRegion is set by Lambda in the functions' environment.
const awsRegion = "AWS_REGION"

// outbox is the outbox replay and resend publish through, over store and
// pub: the deployment's settings and storm windows, so that their alerts
// read as the webhook's and the sweeper's do.
func (b *Backend) outbox(store outbox.Slots, pub alert.Publisher) *outbox.Outbox {
	return outbox.New(store, pub, b.Storms, b.Outbox)
}

func or(v, fallback string) string {
	if v == "" {
		return fallback
	}
	return v
}

// badSetting is a setting the tool reads (BUSINESS_NAMES, ARCHIVE_RETENTION_DAYS,
// ...) that cannot be right: a usage error, said in config's own plain words.
func badSetting(err error) error { return exit(ExitUsage, "%s", err.Error()) }
