package state_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// TestOutcomesListsEveryOutcome: Outcomes (the values of the operator's
// --outcome) holds every Outcome constant state.go defines, once each.
func TestOutcomesListsEveryOutcome(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "state.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var defined []string
	for _, decl := range f.Decls {
		if g, ok := decl.(*ast.GenDecl); ok && g.Tok == token.CONST {
			for _, spec := range g.Specs {
				v := spec.(*ast.ValueSpec)
				if id, ok := v.Type.(*ast.Ident); ok && id.Name == "Outcome" {
					for _, n := range v.Names {
						defined = append(defined, n.Name)
					}
				}
			}
		}
	}
	if len(defined) != len(state.Outcomes) {
		t.Errorf("state.go defines %d outcomes %v; Outcomes lists %d: %v", len(defined), defined, len(state.Outcomes), state.Outcomes)
	}
	for i, o := range state.Outcomes {
		if slices.Index(state.Outcomes, o) != i {
			t.Errorf("Outcomes lists %s twice", o)
		}
	}
}
