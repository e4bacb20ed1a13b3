package operator

import "context"

func businessView(ctx context.Context, e *Env, args []string) error {
	return exit(ExitUsage, "name a subcommand: add, list, revoke or rotate")
}
