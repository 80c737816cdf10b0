package secrets_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"devportal/portal/secrets"
)

// secretName matches the names of values that must not be compared with
// == or != (the time a comparison takes tells how many bytes matched).
var secretName = regexp.MustCompile(`(?i)(hash|token|secret|password|apikey|csrf|state|nonce|^key)$`)

// notSecret are comparisons the scan flags that compare no secret.
var notSecret = map[string]string{
	"wantKey != key": "OAuth provider names",
}

func operandName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return x.Sel.Name
	case *ast.CallExpr:
		return operandName(x.Fun)
	}
	return ""
}

// TestSecretsComparedInConstantTime scans the portal, the control core and
// the handlers for == or != between values named like keys, tokens,
// hashes, passwords or OAuth state, other than against a literal or nil:
// they must go through SameHash (crypto/subtle). The data plane looks keys
// up in a map, as APISIX does, and is not scanned.
func TestSecretsComparedInConstantTime(t *testing.T) {
	fset := token.NewFileSet()
	var n int
	for _, dir := range []string{"portal", "handlers", "internal", "models", "gateway", "cmd"} {
		root := filepath.Join("..", "..", dir)
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if d.Name() == "dataplane" || d.Name() == "testdata" {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") || strings.HasSuffix(p, "_templ.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, p, nil, 0)
			if err != nil {
				return err
			}
			n++
			ast.Inspect(f, func(node ast.Node) bool {
				b, ok := node.(*ast.BinaryExpr)
				if !ok || (b.Op != token.EQL && b.Op != token.NEQ) {
					return true
				}
				for _, side := range []ast.Expr{b.X, b.Y} {
					if _, lit := side.(*ast.BasicLit); lit {
						return true
					}
					if id, ok := side.(*ast.Ident); ok && id.Name == "nil" {
						return true
					}
				}
				if !secretName.MatchString(operandName(b.X)) && !secretName.MatchString(operandName(b.Y)) {
					return true
				}
				expr := types.ExprString(b)
				if _, ok := notSecret[expr]; !ok {
					t.Errorf("%s: %s compares a secret with %s; use secrets.SameHash", fset.Position(b.Pos()), expr, b.Op)
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n < 50 {
		t.Fatalf("scanned only %d files; is the walk broken?", n)
	}
}

func TestSameHash(t *testing.T) {
	h := secrets.HashKey("k1")
	if !secrets.SameHash(h, secrets.HashKey("k1")) || secrets.SameHash(h, secrets.HashKey("k2")) || secrets.SameHash(h, h[:10]) || secrets.SameHash("", h) {
		t.Fatal("SameHash")
	}
}
