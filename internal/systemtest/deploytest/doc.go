// Package deploytest checks that template.yaml, the Makefile, events/env.json
// and the code agree: the functions' environments are the variables the code
// reads, the table's key is the one the store writes, each function may call
// exactly the AWS actions its code calls, and the Makefile builds the arm64
// binary SAM deploys. It holds tests only.
package deploytest
